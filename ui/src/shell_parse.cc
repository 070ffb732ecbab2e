#include "shell_parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <sstream>

#include "ttdb/base/error.h"
#include "ttdb/base/parse.h"

namespace ttdb {
namespace {

bool digits_only(const std::string& text) { return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos; }

// gdb's `LOCATION thread N` (or `thread I.N`): the location and the thread's id,
// or {spec, ""}. Matched by hand: a regex recurses per character of the input.
std::pair<std::string, std::string> split_thread_suffix(const std::string& spec) {
  std::string s = trim(spec);
  auto space = s.find_last_of(" \t");
  if (space == std::string::npos) return {spec, ""};
  std::string id = s.substr(space + 1), rest = trim(s.substr(0, space));
  auto dot = id.find('.');
  if (!digits_only(id.substr(0, dot)) || (dot != std::string::npos && !digits_only(id.substr(dot + 1)))) return {spec, ""};
  if (!rest.ends_with("thread") || rest.size() == 6 || !std::isspace(static_cast<unsigned char>(rest[rest.size() - 7])))
    return {spec, ""};
  return {trim(rest.substr(0, rest.size() - 6)), id};
}

}  // namespace

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

int parse_number(const std::string& text, const char* what) {
  auto v = parse_int(text, 0);
  if (v && *v >= std::numeric_limits<int>::min() && *v <= std::numeric_limits<int>::max()) return static_cast<int>(*v);
  if (!text.empty() && text.find_first_not_of("+-0123456789") == std::string::npos && parse_int(text.substr(text.size() - 1)))
    throw Error(fmt::format("{} {} is too large: at most {}", what, text, std::numeric_limits<int>::max()));
  throw Error(fmt::format("{} must be a number, not \"{}\"", what, text));
}

std::string after_word(const std::string& args, const std::string& word) {
  auto at = args.find(word);
  return at == std::string::npos ? std::string() : trim(args.substr(at + word.size()));
}

std::optional<CommandLine> split_command(const std::string& raw) {
  std::string line = trim(raw);
  if (line.empty() || line[0] == '#') return std::nullopt;
  // "x/4x addr", "p/x v", "print/x v": the format sticks to the command.
  std::size_t end = line.find_first_of(" \t/");
  CommandLine out;
  out.name = line.substr(0, end);
  out.args = end == std::string::npos ? "" : trim(line.substr(end));
  if (end != std::string::npos && line[end] == '/') out.args = line.substr(end);
  return out;
}

namespace {

// Where a format after '/' ends: as in gdb, at the first character that is
// not a letter, digit or sign ("p/x$pc" is "/x" and "$pc").
std::size_t format_end(const std::string& args) {
  static const char kFormatChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
  return args.find_first_not_of(kFormatChars, 1);
}

}  // namespace

std::pair<char, std::string> split_format(const std::string& args, const char* letters) {
  if (!args.starts_with("/")) return {0, trim(args)};
  auto end = format_end(args);
  std::string fmt_text = args.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  if (fmt_text.size() != 1 || !std::strchr(letters, fmt_text[0])) throw Error(fmt::format("undefined output format \"{}\"", fmt_text));
  return {fmt_text[0], end == std::string::npos ? "" : trim(args.substr(end))};
}

ExamineSpec parse_examine(const std::string& args, char last_format) {
  ExamineSpec out;
  out.format = last_format;
  if (!args.starts_with("/")) {
    out.expr = trim(args);
    return out;
  }
  auto space = format_end(args);
  std::string f = args.substr(1, space == std::string::npos ? std::string::npos : space - 1);
  out.expr = space == std::string::npos ? "" : trim(args.substr(space));
  std::size_t digits = 0;
  while (digits < f.size() && std::isdigit(static_cast<unsigned char>(f[digits]))) ++digits;
  if (digits) out.count = parse_number(f.substr(0, digits), "the repeat count");
  for (char c : f.substr(digits)) {
    if (c != 0 && std::strchr("bhwg", c)) {
      out.size = c;
      if (out.format == 's' || out.format == 'i') out.format = 'x';  // a unit size means numbers
    } else if (c != 0 && std::strchr("xduotacfsiz", c)) {
      out.format = c;
    } else {
      throw Error(fmt::format("invalid format letter '{}' in x/{}", c, f));
    }
  }
  return out;
}

BreakSpec parse_break(const std::string& args) {
  BreakSpec out;
  std::string spec = args;
  if (auto at = args.find(" if "); at != std::string::npos) {
    spec = trim(args.substr(0, at));
    out.condition = trim(args.substr(at + 4));
  }
  // gdb's `break LOCATION thread N`: a breakpoint of one thread.
  auto [location, id] = split_thread_suffix(spec);
  out.location = trim(location);
  out.thread = id;
  return out;
}

LocationSpec parse_location(const std::string& spec) {
  LocationSpec out;
  if (spec.empty()) return out;
  if (spec[0] == '*') {
    out.kind = LocationSpec::Kind::address;
    out.text = spec.substr(1);
    return out;
  }
  // FILE:LINE's colon is a single one: "Account::deposit" is a function.
  auto colon = spec.rfind(':');
  while (colon != std::string::npos && ((colon > 0 && spec[colon - 1] == ':') || (colon + 1 < spec.size() && spec[colon + 1] == ':')))
    colon = colon < 2 ? std::string::npos : spec.rfind(':', colon - 2);
  bool all_digits = spec.find_first_not_of("0123456789") == std::string::npos;
  if (colon != std::string::npos || all_digits) {
    out.kind = LocationSpec::Kind::line;
    out.listed_file = all_digits;
    out.text = all_digits ? "" : spec.substr(0, colon);
    out.line = parse_number(all_digits ? spec : spec.substr(colon + 1), "the line number");
    return out;
  }
  out.kind = LocationSpec::Kind::function;
  out.text = spec;
  return out;
}

ThreadId parse_thread_id(const std::string& id) {
  // "N": thread N of the process looked at; "I.N": thread N of inferior I.
  ThreadId out;
  auto dot = id.find('.');
  out.number = parse_number(id.substr(dot == std::string::npos ? 0 : dot + 1), "the thread number");
  if (dot != std::string::npos) out.inferior = parse_number(id.substr(0, dot), "the inferior number");
  return out;
}

std::optional<std::pair<std::string, std::string>> comparison_sides(const std::string& expr) {
  int depth = 0;
  char quote = 0;
  std::optional<std::pair<std::size_t, std::size_t>> found;  // the operator's place and length
  for (std::size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') --depth;
    if (depth != 0 || quote) continue;
    // && and || bind looser than comparisons: no single comparison then.
    if ((c == '&' || c == '|') && i + 1 < expr.size() && expr[i + 1] == c) return std::nullopt;
    char next = i + 1 < expr.size() ? expr[i + 1] : 0;
    char before = i > 0 ? expr[i - 1] : 0;
    if ((c == '=' || c == '!') && next == '=') {
      if (found) return std::nullopt;
      found = std::pair{i, std::size_t{2}};
      ++i;
    } else if ((c == '<' || c == '>') && next != c && before != c && before != '-') {
      if (found) return std::nullopt;
      found = std::pair{i, std::size_t{next == '=' ? 2u : 1u}};
      if (next == '=') ++i;
    }
  }
  if (!found) return std::nullopt;
  std::string left = trim(expr.substr(0, found->first)), right = trim(expr.substr(found->first + found->second));
  if (left.empty() || right.empty()) return std::nullopt;
  return std::pair{left, right};
}

std::pair<std::string, std::string> split_assert(const std::string& args) {
  // The message is the quoted tail, if any.
  std::string expr = trim(args), message;
  if (!expr.empty() && expr.back() == '"') {
    auto open = expr.size() >= 2 ? expr.rfind('"', expr.size() - 2) : std::string::npos;
    if (open != std::string::npos && open > 0 && std::isspace(static_cast<unsigned char>(expr[open - 1]))) {
      message = expr.substr(open + 1, expr.size() - open - 2);
      expr = trim(expr.substr(0, open));
    }
  }
  if (expr.empty()) throw Error("assert needs an expression: assert EXPR [\"MESSAGE\"]");
  return {expr, message};
}

std::string echo_text(const std::string& args) {
  std::string text;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == '\\' && i + 1 < args.size()) {
      char c = args[++i];
      text += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      text += args[i];
    }
  }
  return text;
}

namespace {

// The expressions of a comma-separated list, split where no bracket or
// quote is open.
std::vector<std::string> split_expressions(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\' && i + 1 < text.size()) current += text[i++];
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  out.push_back(trim(current));
  return out;
}

}  // namespace

PrintfSpec parse_printf(const std::string& raw) {
  std::string args = trim(raw);
  if (args.empty() || args[0] != '"') throw Error("printf needs a format string in double quotes: printf \"FORMAT\", EXPR...");
  std::string format;
  std::size_t i = 1;
  for (; i < args.size() && args[i] != '"'; ++i) {
    if (args[i] != '\\' || i + 1 == args.size()) {
      format += args[i];
      continue;
    }
    char c = args[++i];
    format += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'a' ? '\a' : c == 'r' ? '\r' : c == '0' ? '\0' : c;
  }
  if (i == args.size()) throw Error("printf's format string has no closing double quote");
  std::string rest = trim(args.substr(i + 1));
  PrintfSpec spec;
  if (!rest.empty()) {
    if (rest[0] != ',') throw Error(fmt::format("printf expects a comma after its format, not \"{}\"", rest));
    spec.args = split_expressions(rest.substr(1));
    for (const auto& a : spec.args)
      if (a.empty()) throw Error("printf has an empty argument between its commas");
  }
  for (std::size_t at = 0; at < format.size();) {
    if (format[at] != '%') {
      std::size_t next = format.find('%', at);
      spec.pieces.push_back({format.substr(at, next - at), 0});
      at = next == std::string::npos ? format.size() : next;
      continue;
    }
    if (at + 1 < format.size() && format[at + 1] == '%') {
      spec.pieces.push_back({"%", 0});
      at += 2;
      continue;
    }
    std::size_t end = format.find_first_of("diuxXocsfgeEGp", at + 1);
    if (end == std::string::npos) throw Error(fmt::format("printf's format has an unfinished conversion \"{}\"", format.substr(at)));
    std::string conversion = format.substr(at, end - at + 1);
    if (conversion.find_first_not_of("%-+ #0123456789.lhzjt", 0) != conversion.size() - 1)
      throw Error(fmt::format("printf cannot use the conversion \"{}\"", conversion));
    spec.pieces.push_back({conversion, format[end]});
    at = end + 1;
  }
  auto conversions = std::count_if(spec.pieces.begin(), spec.pieces.end(), [](const auto& p) { return p.conversion != 0; });
  if (static_cast<std::size_t>(conversions) != spec.args.size())
    throw Error(fmt::format("printf's format has {} conversion{} but {} argument{} follow{}", conversions,
                            conversions == 1 ? "" : "s", spec.args.size(), spec.args.size() == 1 ? "" : "s",
                            spec.args.size() == 1 ? "s" : ""));
  return spec;
}

std::string watch_expression(const std::string& args) {
  std::string expr = trim(args);
  if (expr.starts_with("-l ") || expr.starts_with("-location ")) expr = trim(expr.substr(expr.find(' ')));
  if (expr.empty()) throw Error("watch needs an expression: watch EXPR");
  return expr;
}

std::string goto_target(const std::string& args) {
  auto w = words(args);
  std::string rest = args;
  if (!w.empty() && w[0] == "event") rest = after_word(args, "event");
  if (trim(rest).empty()) throw Error("goto needs an event number: goto event N");
  return rest;
}

std::pair<int, std::string> parse_condition(const std::string& args) {
  auto w = words(args);
  if (w.empty()) throw Error("condition needs a breakpoint number: condition N EXPR");
  return {parse_number(w[0], "a breakpoint number"), after_word(args, w[0])};
}

}  // namespace ttdb
