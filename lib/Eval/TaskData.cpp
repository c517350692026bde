//===- TaskData.cpp - task file loaders and lm-eval prompts --------------------===//
#include "qcc/Eval/TaskData.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using namespace llvm;

namespace qcc::eval {

namespace {

Error fail(const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); }
Error lineError(StringRef name, int64_t line, const Twine &msg) {
  return fail(name + ":" + Twine(line) + ": " + msg);
}

struct TaskInfo {
  TaskKind kind;
  const char *name;
};
constexpr TaskInfo kTasks[] = {
    {TaskKind::HellaSwag, "hellaswag"}, {TaskKind::PIQA, "piqa"},
    {TaskKind::WinoGrande, "winogrande"}, {TaskKind::ArcEasy, "arc_easy"},
    {TaskKind::ArcChallenge, "arc_challenge"}, {TaskKind::MMLU, "mmlu"},
    {TaskKind::Lambada, "lambada"},
};

/// Calls `f(lineNumber, line)` for every line that is not blank (1-based numbers; CR of CRLF
/// dropped).
Error forEachLine(StringRef text, function_ref<Error(int64_t, StringRef)> f) {
  int64_t no = 0;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    ++no;
    line.consume_back("\r");
    if (line.trim().empty())
      continue;
    if (Error e = f(no, line))
      return e;
  }
  return Error::success();
}

/// One JSON object per line.
Error forEachJSONLine(StringRef text, StringRef name,
                      function_ref<Error(int64_t, const json::Object &)> f) {
  return forEachLine(text, [&](int64_t no, StringRef line) -> Error {
    Expected<json::Value> v = json::parse(line);
    if (!v)
      return lineError(name, no, "invalid JSON: " + toString(v.takeError()));
    const json::Object *o = v->getAsObject();
    if (!o)
      return lineError(name, no, "expected a JSON object");
    return f(no, *o);
  });
}

Expected<std::string> getString(const json::Object &o, StringRef key, StringRef name,
                                int64_t no) {
  std::optional<StringRef> s = o.getString(key);
  if (!s)
    return lineError(name, no, "missing string \"" + key + "\"");
  return s->str();
}

Expected<int64_t> getGold(const json::Object &o, size_t choices, StringRef name, int64_t no) {
  std::optional<int64_t> g = o.getInteger("gold");
  if (!g)
    return lineError(name, no, "missing integer \"gold\"");
  if (*g < 0 || *g >= int64_t(choices))
    return lineError(name, no,
                     "gold " + Twine(*g) + " is not a choice index (0.." +
                         Twine(int64_t(choices) - 1) + ")");
  return *g;
}

TaskChoice choice(std::string context, StringRef text) {
  return {std::move(context), (" " + text).str(), std::max<int64_t>(1, codePoints(text))};
}

Expected<std::string> readFile(StringRef path) {
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(path + ": " + buf.getError().message());
  return (*buf)->getBuffer().str();
}

} // namespace

StringRef taskName(TaskKind k) {
  for (const TaskInfo &t : kTasks)
    if (t.kind == k)
      return t.name;
  return "?";
}

std::optional<TaskKind> parseTaskName(StringRef s) {
  for (const TaskInfo &t : kTasks)
    if (s == t.name)
      return t.kind;
  return std::nullopt;
}

std::string taskNames() {
  std::vector<StringRef> names;
  for (const TaskInfo &t : kTasks)
    names.push_back(t.name);
  return join(names, ", ");
}

bool taskHasAccNorm(TaskKind k) {
  return k == TaskKind::HellaSwag || k == TaskKind::PIQA || k == TaskKind::ArcEasy ||
         k == TaskKind::ArcChallenge;
}

int64_t codePoints(StringRef s) {
  return int64_t(count_if(s, [](char c) { return (uint8_t(c) & 0xC0) != 0x80; }));
}

Expected<std::vector<std::vector<std::string>>> parseCSV(StringRef text, StringRef name,
                                                         std::vector<int64_t> *lines) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  int64_t line = 1, recordLine = 1;
  size_t i = 0;
  const size_t n = text.size();
  bool atFieldStart = true; // the next character is a field's first
  bool any = false;         // the current record has a character or a separator
  auto endRecord = [&] {
    record.push_back(std::move(field));
    field.clear();
    records.push_back(std::move(record));
    record.clear();
    if (lines)
      lines->push_back(recordLine);
  };
  while (i < n) {
    char c = text[i];
    if (atFieldStart && c == '"') {
      // A quoted field: up to the closing quote; "" is a quote.
      const int64_t start = line;
      ++i;
      while (true) {
        if (i >= n)
          return lineError(name, start, "unterminated quoted field");
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n')
          ++line;
        field += text[i++];
      }
      atFieldStart = false;
      any = true;
      if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
        return lineError(name, line, "unexpected character after a closing quote");
      continue;
    }
    if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      atFieldStart = true;
      any = true;
      ++i;
      continue;
    }
    if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
      ++i, c = '\n';
    if (c == '\n') {
      endRecord();
      ++line;
      recordLine = line;
      atFieldStart = true;
      any = false;
      ++i;
      continue;
    }
    if (c == '"')
      return lineError(name, line, "quote inside an unquoted field");
    field += c;
    atFieldStart = false;
    any = true;
    ++i;
  }
  if (any)
    endRecord();
  return records;
}

Expected<std::vector<TaskItem>> parseHellaSwag(StringRef text, StringRef name) {
  SmallVector<StringRef, 0> lines;
  text.split(lines, '\n');
  for (StringRef &l : lines)
    l.consume_back("\r");
  while (!lines.empty() && lines.back().trim().empty())
    lines.pop_back();
  if (lines.empty())
    return fail(name + ": no items");
  std::vector<TaskItem> items;
  for (size_t i = 0; i < lines.size(); i += 6) {
    const int64_t no = int64_t(i) + 1;
    if (i + 6 > lines.size())
      return lineError(name, no,
                       "incomplete item: " + Twine(lines.size() - i) +
                           " of 6 lines (context, label, 4 endings)");
    int64_t label;
    if (lines[i + 1].trim().getAsInteger(10, label) || label < 0 || label > 3)
      return lineError(name, no + 1,
                       "expected the gold label 0..3, got '" + lines[i + 1] + "'");
    TaskItem item;
    item.gold = label;
    for (size_t e = 0; e < 4; ++e)
      item.choices.push_back(choice(lines[i].str(), lines[i + 2 + e]));
    items.push_back(std::move(item));
  }
  return items;
}

Expected<std::vector<TaskItem>> parseQueryChoices(StringRef text, StringRef name) {
  std::vector<TaskItem> items;
  if (Error e = forEachJSONLine(text, name, [&](int64_t no, const json::Object &o) -> Error {
        Expected<std::string> q = getString(o, "query", name, no);
        if (!q)
          return q.takeError();
        const json::Array *cs = o.getArray("choices");
        if (!cs || cs->size() < 2)
          return lineError(name, no, "expected \"choices\", an array of at least 2 strings");
        // lm-eval: "Question: {q}\nAnswer:"; the MosaicML query is "Question: {q}" (arc) or
        // "Question: {q}\n" (piqa).
        std::string ctx = StringRef(*q).rtrim("\r\n").str() + "\nAnswer:";
        TaskItem item;
        for (const json::Value &c : *cs) {
          std::optional<StringRef> s = c.getAsString();
          if (!s)
            return lineError(name, no, "a choice is not a string");
          item.choices.push_back(choice(ctx, *s));
        }
        Expected<int64_t> g = getGold(o, cs->size(), name, no);
        if (!g)
          return g.takeError();
        item.gold = *g;
        items.push_back(std::move(item));
        return Error::success();
      }))
    return std::move(e);
  if (items.empty())
    return fail(name + ": no items");
  return items;
}

Expected<std::vector<TaskItem>> parseWinoGrande(StringRef text, StringRef name) {
  std::vector<TaskItem> items;
  if (Error e = forEachJSONLine(text, name, [&](int64_t no, const json::Object &o) -> Error {
        Expected<std::string> cont = getString(o, "continuation", name, no);
        if (!cont)
          return cont.takeError();
        const json::Array *opts = o.getArray("context_options");
        if (!opts || opts->size() < 2)
          return lineError(name, no,
                           "expected \"context_options\", an array of at least 2 strings");
        TaskItem item;
        for (const json::Value &c : *opts) {
          std::optional<StringRef> s = c.getAsString();
          if (!s)
            return lineError(name, no, "a context option is not a string");
          item.choices.push_back(choice(s->str(), *cont));
        }
        Expected<int64_t> g = getGold(o, opts->size(), name, no);
        if (!g)
          return g.takeError();
        item.gold = *g;
        items.push_back(std::move(item));
        return Error::success();
      }))
    return std::move(e);
  if (items.empty())
    return fail(name + ": no items");
  return items;
}

Expected<std::vector<TaskItem>> parseLambada(StringRef text, StringRef name) {
  std::vector<TaskItem> items;
  if (Error e = forEachJSONLine(text, name, [&](int64_t no, const json::Object &o) -> Error {
        Expected<std::string> ctx = getString(o, "context", name, no);
        if (!ctx)
          return ctx.takeError();
        Expected<std::string> cont = getString(o, "continuation", name, no);
        if (!cont)
          return cont.takeError();
        if (StringRef(*cont).trim().empty())
          return lineError(name, no, "empty \"continuation\"");
        TaskItem item;
        item.choices.push_back(choice(*ctx, StringRef(*cont).ltrim()));
        items.push_back(std::move(item));
        return Error::success();
      }))
    return std::move(e);
  if (items.empty())
    return fail(name + ": no items");
  return items;
}

Expected<std::vector<MMLUQuestion>> parseMMLUCSV(StringRef text, StringRef name) {
  std::vector<int64_t> lines;
  Expected<std::vector<std::vector<std::string>>> rows = parseCSV(text, name, &lines);
  if (!rows)
    return rows.takeError();
  std::vector<MMLUQuestion> qs;
  for (size_t r = 0; r < rows->size(); ++r) {
    const std::vector<std::string> &row = (*rows)[r];
    if (r == 0 && !row.empty() && row[0] == "question")
      continue; // header
    if (row.size() == 1 && row[0].empty())
      continue; // blank line
    if (row.size() != 6)
      return lineError(name, lines[r],
                       "expected 6 fields (question, 4 choices, answer), got " +
                           Twine(row.size()));
    MMLUQuestion q;
    q.question = row[0];
    for (int c = 0; c < 4; ++c)
      q.choices[c] = row[1 + c];
    StringRef a = StringRef(row[5]).trim();
    if (a.size() == 1 && a[0] >= 'A' && a[0] <= 'D')
      q.answer = a[0] - 'A';
    else if (a.size() == 1 && a[0] >= '0' && a[0] <= '3')
      q.answer = a[0] - '0';
    else
      return lineError(name, lines[r], "answer '" + a + "' is not 0..3 or A..D");
    qs.push_back(std::move(q));
  }
  if (qs.empty())
    return fail(name + ": no questions");
  return qs;
}

std::string mmluPrompt(StringRef subject, ArrayRef<MMLUQuestion> shots, const MMLUQuestion &q) {
  std::string s = "The following are multiple choice questions (with answers) about ";
  for (char c : subject)
    s += c == '_' ? ' ' : c;
  s += ".\n\n";
  auto body = [&](const MMLUQuestion &x) {
    s += StringRef(x.question).trim().str();
    for (int c = 0; c < 4; ++c)
      s += "\n" + std::string(1, char('A' + c)) + ". " + x.choices[c];
    s += "\nAnswer:";
  };
  for (const MMLUQuestion &x : shots) {
    body(x);
    s += " ";
    s += char('A' + x.answer);
    s += "\n\n";
  }
  body(q);
  return s;
}

namespace {

Expected<TaskSet> loadMMLU(StringRef dir, int64_t shots, int64_t limit) {
  SmallString<256> testDir(dir);
  sys::path::append(testDir, "test");
  if (!sys::fs::is_directory(testDir))
    return fail(dir + ": no test/ folder (mmlu wants a folder with test/ and dev/ csv files)");
  std::vector<std::string> files;
  std::error_code ec;
  for (sys::fs::directory_iterator it(testDir, ec), end; it != end && !ec; it.increment(ec))
    if (StringRef(it->path()).ends_with("_test.csv"))
      files.push_back(it->path());
  if (ec)
    return fail(testDir + ": " + ec.message());
  if (files.empty())
    return fail(testDir + ": no <subject>_test.csv files");
  llvm::sort(files);
  TaskSet set;
  set.kind = TaskKind::MMLU;
  for (const std::string &f : files) {
    StringRef subject = sys::path::filename(f).drop_back(strlen("_test.csv"));
    Expected<std::string> text = readFile(f);
    if (!text)
      return text.takeError();
    Expected<std::vector<MMLUQuestion>> qs = parseMMLUCSV(*text, f);
    if (!qs)
      return qs.takeError();
    std::vector<MMLUQuestion> dev;
    if (shots > 0) {
      SmallString<256> devFile(dir);
      sys::path::append(devFile, "dev", subject + "_dev.csv");
      Expected<std::string> devText = readFile(devFile);
      if (!devText)
        return devText.takeError();
      Expected<std::vector<MMLUQuestion>> d = parseMMLUCSV(*devText, devFile);
      if (!d)
        return d.takeError();
      if (int64_t(d->size()) < shots)
        return fail(devFile + ": " + Twine(d->size()) + " questions, fewer than --shots " +
                    Twine(shots));
      dev.assign(d->begin(), d->begin() + shots);
    }
    set.subjects.push_back(subject.str());
    size_t n = qs->size();
    if (limit > 0)
      n = std::min<size_t>(n, size_t(limit));
    for (size_t i = 0; i < n; ++i) {
      const MMLUQuestion &q = (*qs)[i];
      std::string ctx = mmluPrompt(subject, dev, q);
      TaskItem item;
      item.subject = subject.str();
      item.gold = q.answer;
      for (int c = 0; c < 4; ++c)
        item.choices.push_back(choice(ctx, std::string(1, char('A' + c))));
      set.items.push_back(std::move(item));
    }
  }
  return set;
}

} // namespace

Expected<TaskSet> loadTask(TaskKind kind, StringRef path, int64_t shots, int64_t limit) {
  if (shots < 0)
    return fail("--shots must not be negative");
  if (limit < 0)
    return fail("--limit must not be negative");
  if (kind == TaskKind::MMLU) {
    if (shots > 5)
      return fail("--shots " + Twine(shots) + ": mmlu has 5 dev questions per subject (0..5)");
    return loadMMLU(path, shots, limit);
  }
  if (shots > 0)
    return fail("--shots " + Twine(shots) + ": " + taskName(kind) +
                " is zero-shot here (its data has no training split to draw examples from)");
  if (sys::fs::is_directory(path))
    return fail(path + ": a folder; " + taskName(kind) + " wants its data file");
  Expected<std::string> text = readFile(path);
  if (!text)
    return text.takeError();
  Expected<std::vector<TaskItem>> items = [&]() -> Expected<std::vector<TaskItem>> {
    switch (kind) {
    case TaskKind::HellaSwag:
      return parseHellaSwag(*text, path);
    case TaskKind::WinoGrande:
      return parseWinoGrande(*text, path);
    case TaskKind::Lambada:
      return parseLambada(*text, path);
    default:
      return parseQueryChoices(*text, path);
    }
  }();
  if (!items)
    return items.takeError();
  TaskSet set;
  set.kind = kind;
  set.items = std::move(*items);
  if (limit > 0 && int64_t(set.items.size()) > limit)
    set.items.resize(size_t(limit));
  return set;
}

} // namespace qcc::eval
