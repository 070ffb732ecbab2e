// fmt's compiled part, built into ttdb: Debian ships libfmt only as a
// shared library, and loading it (with the C++ runtime it brings) was a
// third of a ttdb's start, which every recording pays (docs/dependencies.md).
// The headers hold the definitions; the templates the header instantiates
// only here are named below.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
}  // namespace detail
FMT_END_NAMESPACE
