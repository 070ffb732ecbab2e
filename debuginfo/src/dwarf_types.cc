#include "dwarf_types.h"

#include "dwarf_util.h"

namespace ttdb {

DwarfTypes::~DwarfTypes() {
  // Types refer to each other in cycles (a struct holding a pointer to
  // itself): break them, or they outlive the cache.
  for (auto& [key, type] : cache_) {
    type->members.clear();
    type->params.clear();
    type->target.reset();
  }
}

namespace {

Member::Access access_of(Dwarf_Die* die, bool in_class) {
  switch (die_udata(die, DW_AT_accessibility).value_or(0)) {
    case DW_ACCESS_public: return Member::Access::public_;
    case DW_ACCESS_protected: return Member::Access::protected_;
    case DW_ACCESS_private: return Member::Access::private_;
    default: return in_class ? Member::Access::private_ : Member::Access::public_;
  }
}

}  // namespace

std::string DwarfTypes::method_declaration(Dwarf_Die* method, const std::string& class_name) {
  // As gdb's ptype writes a member function: "int balance(void) const".
  std::string name = die_name(method);
  std::string params;
  bool is_const = false;
  for_each_child(method, [&](Dwarf_Die* p) {
    if (dwarf_tag(p) != DW_TAG_formal_parameter) return;
    if (dwarf_hasattr(p, DW_AT_artificial)) {
      // `this`: a pointer to a const object makes a const method.
      Dwarf_Attribute attr;
      Dwarf_Die pointer, pointee;
      is_const = dwarf_attr(p, DW_AT_type, &attr) && dwarf_formref_die(&attr, &pointer) &&
                 dwarf_attr(&pointer, DW_AT_type, &attr) && dwarf_formref_die(&attr, &pointee) &&
                 dwarf_tag(&pointee) == DW_TAG_const_type;
      return;
    }
    params += (params.empty() ? "" : ", ") + type_of(p)->display();
  });
  std::string unqualified = class_name.substr(class_name.rfind("::") == std::string::npos ? 0 : class_name.rfind("::") + 2);
  bool structor = name == unqualified.substr(0, unqualified.find('<')) || name.starts_with("~");
  std::string out = structor ? name : type_of(method)->display() + " " + name;
  return out + "(" + (params.empty() ? "void" : params) + ")" + (is_const ? " const" : "");
}

TypeRef DwarfTypes::type_of(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  Dwarf_Die target;
  if (!dwarf_attr_integrate(die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &target)) return void_type();
  return make(&target);
}

namespace {

// GCC names base types "long int", "short unsigned int"; gdb prints them as
// C code writes them.
std::string as_c_writes_it(const std::string& name) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"long int", "long"},           {"long unsigned int", "unsigned long"},
      {"short int", "short"},         {"short unsigned int", "unsigned short"},
      {"long long int", "long long"}, {"long long unsigned int", "unsigned long long"},
      {"__int128 unsigned", "unsigned __int128"}};
  for (const auto& [dwarf, c] : kNames)
    if (name == dwarf) return c;
  return name;
}

}  // namespace

TypeRef DwarfTypes::make(Dwarf_Die* die) {
  auto key = std::make_pair(dwarf_cu_getdwarf(die->cu), dwarf_dieoffset(die));
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  auto t = std::make_shared<Type>();
  cache_[key] = t;  // before the members: a struct may point to itself
  t->cplusplus = is_cplusplus(die);
  t->name = t->cplusplus ? qualified_name(die) : die_name(die);
  t->size = die_udata(die, DW_AT_byte_size).value_or(0);
  switch (dwarf_tag(die)) {
    case DW_TAG_base_type: {
      auto encoding = die_udata(die, DW_AT_encoding).value_or(0);
      switch (encoding) {
        case DW_ATE_boolean: t->kind = Type::Kind::boolean; break;
        case DW_ATE_float: t->kind = Type::Kind::floating; t->is_signed = true; break;
        case DW_ATE_signed_char: t->kind = Type::Kind::character; t->is_signed = true; break;
        case DW_ATE_unsigned_char: t->kind = Type::Kind::character; break;
        case DW_ATE_signed: t->kind = Type::Kind::integer; t->is_signed = true; break;
        default: t->kind = Type::Kind::integer; break;
      }
      if (t->kind == Type::Kind::character && t->size != 1) t->kind = Type::Kind::integer;
      t->name = as_c_writes_it(t->name);
      break;
    }
    case DW_TAG_pointer_type:
    case DW_TAG_reference_type:
    case DW_TAG_rvalue_reference_type:
      t->kind = Type::Kind::pointer;
      t->size = 8;
      t->target = type_of(die);
      t->reference = dwarf_tag(die) == DW_TAG_reference_type ? "&" : dwarf_tag(die) == DW_TAG_rvalue_reference_type ? "&&" : "";
      break;
    case DW_TAG_const_type:
    case DW_TAG_volatile_type:
    case DW_TAG_restrict_type:
    case DW_TAG_atomic_type: {
      // Qualifiers change nothing a debugger reads; C++ declarations show `const`.
      bool cplusplus = t->cplusplus;
      *t = *type_of(die);
      if (cplusplus && dwarf_tag(die) == DW_TAG_const_type) t->is_const = true;
      break;
    }
    case DW_TAG_typedef: {
      std::string name = t->name;
      *t = *type_of(die);
      if (t->is_scalar() || t->kind == Type::Kind::void_) t->name = name;
      break;
    }
    case DW_TAG_structure_type:
    case DW_TAG_class_type:
    case DW_TAG_union_type:
      t->kind = dwarf_tag(die) == DW_TAG_union_type ? Type::Kind::union_ : Type::Kind::structure;
      t->is_class = dwarf_tag(die) == DW_TAG_class_type;
      for_each_child(die, [&](Dwarf_Die* m) {
        int tag = dwarf_tag(m);
        if (tag == DW_TAG_subprogram) {
          if (!dwarf_hasattr(m, DW_AT_artificial)) {
            // gdb says "virtual" of methods, not of destructors.
            bool is_virtual = die_udata(m, DW_AT_virtuality).value_or(0) != 0 && !die_name(m).starts_with("~");
            t->methods.push_back(Method{(is_virtual ? "virtual " : "") + method_declaration(m, t->name), access_of(m, t->is_class)});
          }
          return;
        }
        if (tag == DW_TAG_template_type_parameter) {
          t->template_types.emplace_back(die_name(m), type_of(m));
          return;
        }
        if (tag == DW_TAG_inheritance) {
          Member base;
          base.type = type_of(m);
          base.name = base.type->name;
          base.offset = die_udata(m, DW_AT_data_member_location).value_or(0);
          base.is_base = true;
          base.access = access_of(m, t->is_class);
          t->members.push_back(std::move(base));
          return;
        }
        // Static members have no place in the object (DWARF 4: a declaration).
        if (tag != DW_TAG_member || dwarf_hasattr(m, DW_AT_declaration) || dwarf_hasattr(m, DW_AT_external)) return;
        Member member;
        member.artificial = dwarf_hasattr(m, DW_AT_artificial);
        member.access = access_of(m, t->is_class);
        member.name = die_name(m);
        member.type = type_of(m);
        member.offset = die_udata(m, DW_AT_data_member_location).value_or(0);
        if (auto bits = die_udata(m, DW_AT_bit_size)) {
          auto bit_offset = die_udata(m, DW_AT_data_bit_offset).value_or(0);
          member.bit_size = static_cast<int>(*bits);
          member.offset = bit_offset / 8;
          member.bit_offset = static_cast<int>(bit_offset % 8);
        }
        t->members.push_back(std::move(member));
      });
      break;
    case DW_TAG_array_type: {
      t->kind = Type::Kind::array;
      std::vector<std::uint64_t> dims;
      for_each_child(die, [&](Dwarf_Die* sub) {
        if (dwarf_tag(sub) != DW_TAG_subrange_type) return;
        if (auto count = die_udata(sub, DW_AT_count)) dims.push_back(*count);
        else if (auto upper = die_udata(sub, DW_AT_upper_bound)) dims.push_back(*upper + 1);
        else dims.push_back(0);
      });
      if (dims.empty()) dims.push_back(0);
      TypeRef element = type_of(die);
      // int a[2][3] is an array of 2 arrays of 3.
      for (std::size_t i = dims.size(); i-- > 1;) {
        auto inner = std::make_shared<Type>();
        inner->kind = Type::Kind::array;
        inner->target = element;
        inner->count = dims[i];
        inner->size = element->size * dims[i];
        element = inner;
      }
      t->target = element;
      t->count = dims[0];
      t->size = element->size * dims[0];
      break;
    }
    case DW_TAG_enumeration_type:
      t->kind = Type::Kind::enumeration;
      t->is_signed = true;
      for_each_child(die, [&](Dwarf_Die* e) {
        if (dwarf_tag(e) != DW_TAG_enumerator) return;
        Dwarf_Attribute attr;
        Dwarf_Sword value = 0;
        if (dwarf_attr(e, DW_AT_const_value, &attr)) dwarf_formsdata(&attr, &value);
        t->enumerators.emplace_back(die_name(e), value);
      });
      break;
    case DW_TAG_subroutine_type:
    case DW_TAG_subprogram:
      t->kind = Type::Kind::function;
      t->size = 1;
      t->target = type_of(die);
      if (t->target->kind == Type::Kind::void_) t->target = nullptr;
      for_each_child(die, [&](Dwarf_Die* p) {
        if (dwarf_tag(p) == DW_TAG_formal_parameter) t->params.push_back(type_of(p));
      });
      break;
    default: t->kind = Type::Kind::void_; break;
  }
  return t;
}

}  // namespace ttdb
