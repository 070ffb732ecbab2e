// C types (debuginfo/types.h) built from DWARF entries, each once.
#pragma once

#include <elfutils/libdw.h>

#include <map>
#include <utility>

#include "ttdb/debuginfo/types.h"

namespace ttdb {

class DwarfTypes {
 public:
  DwarfTypes() = default;
  ~DwarfTypes();
  DwarfTypes(const DwarfTypes&) = delete;
  DwarfTypes& operator=(const DwarfTypes&) = delete;

  // The type of an entry with DW_AT_type (void without one).
  TypeRef type_of(Dwarf_Die* die);
  // The type a type entry describes.
  TypeRef make(Dwarf_Die* die);

 private:
  std::string method_declaration(Dwarf_Die* method, const std::string& class_name);
  std::map<std::pair<Dwarf*, Dwarf_Off>, std::shared_ptr<Type>> cache_;
};

}  // namespace ttdb
