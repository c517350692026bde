//===- TasksTest.cpp - task loaders, lm-eval scoring and metrics on known models ---===//
#include "qcc/Eval/TaskData.h"
#include "qcc/Eval/Tasks.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace qcc::eval;
using llvm::StringRef;

namespace {

constexpr int32_t kBos = 256;
constexpr int64_t kVocab = 257;

/// Byte-level tokenizer: BOS then one id per byte.
std::vector<int32_t> encodeBytes(StringRef s) {
  std::vector<int32_t> ids{kBos};
  for (char c : s)
    ids.push_back(int32_t(uint8_t(c)));
  return ids;
}

uint64_t mix(uint64_t h, int32_t t) {
  h ^= uint64_t(t) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ull;
}
float hashLogit(uint64_t h, int64_t v) {
  uint64_t x = mix(h, int32_t(v)) >> 40;
  return float(x % 1000) / 125.0f; // 0 .. 8
}

/// Causal fake whose logits after a prefix are a closed-form function of the whole prefix: every
/// earlier token matters, so padding leaking into a row or rows mixed up change the scores.
class PrefixHashModel : public LanguageModel {
public:
  explicit PrefixHashModel(int64_t maxSeq = 1024) : maxSeq(maxSeq) {}
  int64_t vocabSize() const override { return kVocab; }
  int64_t maxSeqLen() const override { return maxSeq; }
  llvm::Error reset(int64_t b) override {
    batch = b;
    return llvm::Error::success();
  }
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                      std::vector<float> &logits) override {
    EXPECT_EQ(pos, 0);
    EXPECT_LE(B, batch);
    EXPECT_LE(T, maxSeq);
    calls.push_back({B, T});
    logits.assign(size_t(B * T * kVocab), 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      uint64_t h = 1;
      for (int64_t t = 0; t < T; ++t) {
        h = mix(h, tokens[size_t(b * T + t)]);
        for (int64_t v = 0; v < kVocab; ++v)
          logits[size_t((b * T + t) * kVocab + v)] = hashLogit(h, v);
      }
    }
    return llvm::Error::success();
  }
  int64_t maxSeq, batch = 0;
  std::vector<std::pair<int64_t, int64_t>> calls;
};

/// Σ log p(cont | ctx) under PrefixHashModel, computed directly.
double refLL(const std::vector<int32_t> &ctx, const std::vector<int32_t> &cont) {
  uint64_t h = 1;
  for (int32_t t : ctx)
    h = mix(h, t);
  double ll = 0;
  for (int32_t t : cont) {
    double z = 0;
    for (int64_t v = 0; v < kVocab; ++v)
      z += std::exp(double(hashLogit(h, v)));
    ll += double(hashLogit(h, t)) - std::log(z);
    h = mix(h, t);
  }
  return ll;
}

/// Greedy next token is (previous + 1) % V with log-probability `boost` - log(e^boost + V - 1).
class SuccessorModel : public LanguageModel {
public:
  int64_t vocabSize() const override { return kVocab; }
  int64_t maxSeqLen() const override { return 512; }
  llvm::Error reset(int64_t) override { return llvm::Error::success(); }
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t,
                      std::vector<float> &logits) override {
    logits.assign(size_t(B * T * kVocab), 0.0f);
    for (int64_t i = 0; i < B * T; ++i)
      logits[size_t(i * kVocab + (tokens[size_t(i)] + 1) % kVocab)] = boost;
    return llvm::Error::success();
  }
  float boost = 4.0f;
  double hit() const { return boost - std::log(std::exp(double(boost)) + double(kVocab - 1)); }
  double miss() const { return -std::log(std::exp(double(boost)) + double(kVocab - 1)); }
};

ScoreRequest req(StringRef ctx, StringRef cont) { return encodePair(encodeBytes, ctx, cont); }

template <typename T> T ok(llvm::Expected<T> v) {
  if (!v) {
    ADD_FAILURE() << llvm::toString(v.takeError());
    return T();
  }
  return std::move(*v);
}
template <typename T> std::string errorOf(llvm::Expected<T> v) {
  if (v) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(v.takeError());
}

TEST(Tasks, EncodePairMovesTrailingSpaceToTheContinuation) {
  ScoreRequest r = req("Answer: ", "B");
  EXPECT_EQ(r.context, encodeBytes("Answer:"));
  EXPECT_EQ(r.continuation, (std::vector<int32_t>{' ', 'B'}));
  ScoreRequest s = req("ctx", " end");
  EXPECT_EQ(s.context.size(), 4u); // BOS + 3 bytes
  EXPECT_EQ(s.continuation, (std::vector<int32_t>{' ', 'e', 'n', 'd'}));
}

TEST(Tasks, MeanStderrIsLmEvals) {
  // sample std (n-1) / sqrt(n) = sqrt(p(1-p)/(n-1)) for 0/1 scores.
  EXPECT_NEAR(meanStderr({1, 0, 1, 1}), std::sqrt(0.75 * 0.25 / 3), 1e-12);
  EXPECT_NEAR(meanStderr({1, 2, 3, 4}), std::sqrt((2.25 + 0.25 + 0.25 + 2.25) / 3 / 4), 1e-12);
  EXPECT_EQ(meanStderr({1}), 0.0);
}

TEST(Tasks, ScoresMatchClosedFormAndBatchingChangesNothing) {
  std::vector<ScoreRequest> rs = {req("The cat", " sat"), req("A much longer context here", " x"),
                                  req("ab", " cdefgh"), req("The cat", " ran away"),
                                  req("Q", " z")};
  for (int64_t batch : {1, 2, 3, 8}) {
    PrefixHashModel m;
    ScoringOptions o;
    o.batch = batch;
    int64_t longest = 0;
    o.onLongestRow = [&](int64_t n) { longest = n; };
    ScoringStats st;
    std::vector<ScoreResult> got = ok(scoreRequests(m, rs, o, &st));
    ASSERT_EQ(got.size(), rs.size());
    for (size_t i = 0; i < rs.size(); ++i) {
      EXPECT_NEAR(got[i].logLikelihood, refLL(rs[i].context, rs[i].continuation), 1e-9)
          << "request " << i << " batch " << batch;
      EXPECT_EQ(got[i].tokens, int64_t(rs[i].continuation.size()));
    }
    EXPECT_EQ(st.rows, 5);
    EXPECT_EQ(st.forwardCalls, (5 + batch - 1) / batch);
    EXPECT_EQ(int64_t(m.calls.size()), st.forwardCalls);
    EXPECT_EQ(longest, int64_t(rs[1].context.size() + rs[1].continuation.size() - 1));
    EXPECT_EQ(m.calls[0].second, longest);             // longest rows first
  }
}

TEST(Tasks, SameAndPrefixRowsAreShared) {
  // One-token continuations after the same context have the same row ("Answer:"); it is a
  // prefix of the row of the two-token "BC" ("Answer:B"), so both are read from that one.
  std::vector<ScoreRequest> rs = {req("Answer:", "A"), req("Answer:", "A"),
                                  {encodeBytes("Answer:"), {'B', 'C'}},
                                  {encodeBytes("Answer:"), {'D'}},
                                  {encodeBytes("Other"), {'y'}}};
  PrefixHashModel m;
  ScoringStats st;
  std::vector<ScoreResult> got = ok(scoreRequests(m, rs, ScoringOptions(), &st));
  EXPECT_EQ(st.requests, 5);
  EXPECT_EQ(st.rows, 2); // "Answer:B" and "Other"
  for (size_t i = 0; i < rs.size(); ++i)
    EXPECT_NEAR(got[i].logLikelihood, refLL(rs[i].context, rs[i].continuation), 1e-9);
}

TEST(Tasks, TruncatesFromTheLeftLikeLmEval) {
  PrefixHashModel m(/*maxSeq=*/8);
  ScoreRequest r = {encodeBytes("0123456789"), {'a', 'b'}}; // 11 + 2 tokens
  ScoringStats st;
  std::vector<ScoreResult> got = ok(scoreRequests(m, {r}, ScoringOptions(), &st));
  EXPECT_EQ(st.truncated, 1);
  ASSERT_EQ(m.calls.size(), 1u);
  EXPECT_EQ(m.calls[0].second, 8);
  // (context + continuation)[-9:][:-1] = "3456789a": 'a' scored after "3456789", 'b' after
  // "3456789a".
  std::vector<int32_t> kept = {'3', '4', '5', '6', '7', '8', '9'};
  EXPECT_NEAR(got[0].logLikelihood, refLL(kept, {'a', 'b'}), 1e-9);
  // A continuation longer than the model's context: its last 8 tokens are scored, after the 7
  // before them.
  std::vector<int32_t> cont = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'};
  got = ok(scoreRequests(m, {{encodeBytes("x"), cont}}, ScoringOptions(), &st));
  EXPECT_EQ(st.continuationsCut, 1);
  EXPECT_EQ(got[0].tokens, 8);
  EXPECT_NEAR(got[0].logLikelihood, refLL({'b'}, {'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'}), 1e-9);
}

TEST(Tasks, TokensOutsideTheVocabularyAreRefused) {
  PrefixHashModel m;
  // The continuation's last token is a scored target only (no input row holds it): it is
  // checked too, before any logit is read.
  for (ScoreRequest r : {ScoreRequest{{kBos, 'a'}, {'b', int32_t(kVocab)}},
                         ScoreRequest{{kBos, -1}, {'b'}}, ScoreRequest{{kBos}, {int32_t(kVocab)}}}) {
    llvm::Expected<std::vector<ScoreResult>> got = scoreRequests(m, {r}, ScoringOptions());
    ASSERT_FALSE(bool(got));
    EXPECT_NE(llvm::toString(got.takeError()).find("is outside the vocabulary of 257"),
              std::string::npos);
  }
  EXPECT_TRUE(m.calls.empty());
}

TEST(Tasks, AccNormByLengthFlipsTheAnswer) {
  TaskSet set;
  set.kind = TaskKind::HellaSwag;
  TaskItem item;
  item.gold = 1;
  item.choices = {{"c", " a", 1}, {"c", " bbbb", 4}};
  set.items = {item, item};
  set.items[1].gold = 0;
  // ll: -2 vs -4; per character: -2 vs -1.
  std::vector<std::vector<ScoreResult>> scores = {{{-2.0, false, 1}, {-4.0, false, 4}},
                                                  {{-2.0, false, 1}, {-4.0, false, 4}}};
  TaskResult r = computeMetrics(set, scores);
  EXPECT_EQ(r.n, 2);
  EXPECT_DOUBLE_EQ(r.acc, 0.5);      // item 1 only (argmax ll = 0)
  EXPECT_DOUBLE_EQ(r.accNorm, 0.5);  // item 0 only (argmax ll/len = 1)
  EXPECT_NEAR(r.accStderr, std::sqrt(0.25 / 1), 1e-12);
  ASSERT_TRUE(r.hasAccNorm);
  set.items[1].gold = 1; // both gold 1: acc 0, acc_norm 1
  r = computeMetrics(set, scores);
  EXPECT_DOUBLE_EQ(r.acc, 0.0);
  EXPECT_DOUBLE_EQ(r.accNorm, 1.0);
  llvm::json::Object o = r.toJSON();
  EXPECT_TRUE(o.getNumber("acc_norm_stderr"));
  // Ties go to the first choice (numpy.argmax).
  scores = {{{-3.0, false, 1}, {-3.0, false, 1}}, {{-3.0, false, 1}, {-3.0, false, 1}}};
  EXPECT_DOUBLE_EQ(computeMetrics(set, scores).acc, 0.0);
}

TEST(Tasks, HellaSwagEndToEnd) {
  std::string text = "Ctx one: he\n2\nruns.\nwalks.\nsits down.\neats.\n"
                     "Ctx two: she\n0\nsings.\nswims far away.\nreads.\nwaits.\n";
  TaskSet set;
  set.kind = TaskKind::HellaSwag;
  set.items = ok(parseHellaSwag(text, "h.txt"));
  ASSERT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.items[0].choices[2].context, "Ctx one: he");
  EXPECT_EQ(set.items[0].choices[2].continuation, " sits down.");
  EXPECT_EQ(set.items[0].choices[2].normLength, 10);
  PrefixHashModel m;
  ScoringOptions o;
  o.batch = 3;
  TaskResult r = ok(evaluateTask(m, set, encodeBytes, o));
  double acc = 0, accNorm = 0;
  for (const TaskItem &it : set.items) {
    std::vector<double> ll, norm;
    for (const TaskChoice &c : it.choices) {
      ll.push_back(refLL(encodeBytes(c.context), req(c.context, c.continuation).continuation));
      norm.push_back(ll.back() / double(c.normLength));
    }
    acc += std::max_element(ll.begin(), ll.end()) - ll.begin() == it.gold;
    accNorm += std::max_element(norm.begin(), norm.end()) - norm.begin() == it.gold;
  }
  EXPECT_DOUBLE_EQ(r.acc, acc / 2);
  EXPECT_DOUBLE_EQ(r.accNorm, accNorm / 2);
  EXPECT_EQ(r.stats.requests, 8);
}

TEST(Tasks, WinoGrandeScoresTheSameContinuationAfterEachOption) {
  std::string text = R"({"context_options": ["The trophy did not fit because the trophy", )"
                     R"("The trophy did not fit because the case"], "continuation": "was too big.", )"
                     R"("gold": 0})"
                     "\n";
  TaskSet set;
  set.kind = TaskKind::WinoGrande;
  set.items = ok(parseWinoGrande(text, "w.jsonl"));
  ASSERT_EQ(set.items.size(), 1u);
  const TaskItem &it = set.items[0];
  ASSERT_EQ(it.choices.size(), 2u);
  EXPECT_EQ(it.choices[0].continuation, " was too big.");
  EXPECT_EQ(it.choices[1].continuation, " was too big.");
  EXPECT_NE(it.choices[0].context, it.choices[1].context);
  PrefixHashModel m;
  TaskResult r = ok(evaluateTask(m, set, encodeBytes, ScoringOptions()));
  std::vector<int32_t> cont = encodeBytes(" was too big.");
  cont.erase(cont.begin()); // no BOS
  double a = refLL(encodeBytes(it.choices[0].context), cont);
  double b = refLL(encodeBytes(it.choices[1].context), cont);
  EXPECT_DOUBLE_EQ(r.acc, a >= b ? 1.0 : 0.0);
  EXPECT_FALSE(r.hasAccNorm); // lm-eval reports acc only
  EXPECT_FALSE(r.toJSON().getNumber("acc_norm"));
}

TEST(Tasks, LambadaGreedyAccuracyAndPerplexity) {
  // After "...a", " " is not the successor of 'a': use contexts ending in the byte before ' '.
  std::string text = "{\"context\": \"x\\u001f\", \"continuation\": \"!\\\"#\"}\n" // greedy
                     "{\"context\": \"x\\u001f\", \"continuation\": \"!\\\"$\"}\n"; // last miss
  TaskSet set;
  set.kind = TaskKind::Lambada;
  set.items = ok(parseLambada(text, "l.jsonl"));
  ASSERT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.items[0].choices[0].continuation, " !\"#");
  SuccessorModel m;
  TaskResult r = ok(evaluateTask(m, set, encodeBytes, ScoringOptions()));
  // Continuation tokens ' ', '!', '"', '#'|'$' after 0x1f: all successors except the last miss.
  EXPECT_DOUBLE_EQ(r.acc, 0.5);
  EXPECT_EQ(r.continuationTokens, 8);
  const double ll = 4 * m.hit() + 3 * m.hit() + m.miss();
  EXPECT_NEAR(r.ppl, std::exp(-ll / 8), 1e-9);
  EXPECT_NEAR(r.pplPerItem, std::exp(-ll / 2), 1e-9);
  llvm::json::Object o = r.toJSON();
  EXPECT_TRUE(o.getNumber("ppl"));
  EXPECT_TRUE(o.getNumber("ppl_per_item"));
}

TEST(Tasks, QueryChoicesPrompt) {
  std::string text = R"({"query": "Question: How?\n", "choices": ["a b", "c"], "gold": 1})"
                     "\n"
                     R"({"choices": ["x", "y", "z"], "query": "Question: Why?", "gold": 2})";
  std::vector<TaskItem> items = ok(parseQueryChoices(text, "p.jsonl"));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].choices[0].context, "Question: How?\nAnswer:");
  EXPECT_EQ(items[0].choices[0].continuation, " a b");
  EXPECT_EQ(items[0].choices[0].normLength, 3);
  EXPECT_EQ(items[1].choices[2].context, "Question: Why?\nAnswer:");
  EXPECT_EQ(items[1].gold, 2);
}

TEST(Tasks, MMLUPromptZeroAndOneShot) {
  MMLUQuestion shot{"  What is 1+1? ", {"1", "2", "3", "4"}, 1};
  MMLUQuestion q{"Pick C.", {"w", "x", "y", "z"}, 2};
  EXPECT_EQ(mmluPrompt("high_school_math", {}, q),
            "The following are multiple choice questions (with answers) about high school "
            "math.\n\nPick C.\nA. w\nB. x\nC. y\nD. z\nAnswer:");
  EXPECT_EQ(mmluPrompt("high_school_math", {shot}, q),
            "The following are multiple choice questions (with answers) about high school "
            "math.\n\nWhat is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B\n\n"
            "Pick C.\nA. w\nB. x\nC. y\nD. z\nAnswer:");
}

TEST(Tasks, CSVQuotesCommasAndNewlines) {
  std::vector<int64_t> lines;
  auto rows = ok(parseCSV("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",,x\nlast", "t.csv",
                          &lines));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"two\nlines", "", "x"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"last"}));
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(errorOf(parseCSV("a\n\"open,\nb\n", "t.csv")), "t.csv:2: unterminated quoted field");
  EXPECT_EQ(errorOf(parseCSV("a,b\"c\n", "t.csv")), "t.csv:1: quote inside an unquoted field");
  EXPECT_EQ(errorOf(parseCSV("\"a\"b,c\n", "t.csv")),
            "t.csv:1: unexpected character after a closing quote");
}

TEST(Tasks, MMLUCSV) {
  std::string text = "question,choice0,choice1,choice2,choice3,answer\n"
                     "\"Multi\nline, question\",a,b,c,d,3\n"
                     "Q2,a,b,c,d,B\n";
  std::vector<MMLUQuestion> qs = ok(parseMMLUCSV(text, "m.csv"));
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].question, "Multi\nline, question");
  EXPECT_EQ(qs[0].answer, 3);
  EXPECT_EQ(qs[1].answer, 1);
  EXPECT_EQ(errorOf(parseMMLUCSV(text + "Q3,a,b,c,4\n", "m.csv")),
            "m.csv:5: expected 6 fields (question, 4 choices, answer), got 5");
  EXPECT_EQ(errorOf(parseMMLUCSV(text + "Q3,a,b,c,d,E\n", "m.csv")),
            "m.csv:5: answer 'E' is not 0..3 or A..D");
}

TEST(Tasks, MalformedFilesNameFileAndLine) {
  EXPECT_EQ(errorOf(parseHellaSwag("c\n1\na\nb\nc\nd\nc2\n0\na\n", "h.txt")),
            "h.txt:7: incomplete item: 3 of 6 lines (context, label, 4 endings)");
  EXPECT_EQ(errorOf(parseHellaSwag("c\nx\na\nb\nc\nd\n", "h.txt")),
            "h.txt:2: expected the gold label 0..3, got 'x'");
  std::string good = R"({"query": "Q", "choices": ["a", "b"], "gold": 0})";
  std::string msg = errorOf(parseQueryChoices(good + "\n\n{\"query\": \n", "p.jsonl"));
  EXPECT_EQ(msg.rfind("p.jsonl:3: invalid JSON: ", 0), 0u) << msg;
  EXPECT_EQ(errorOf(parseQueryChoices(good + "\n" + R"({"query": "Q", "choices": ["a", "b"]})",
                                      "p.jsonl")),
            "p.jsonl:2: missing integer \"gold\"");
  EXPECT_EQ(errorOf(parseQueryChoices(R"({"query": "Q", "choices": ["a", "b"], "gold": 2})",
                                      "p.jsonl")),
            "p.jsonl:1: gold 2 is not a choice index (0..1)");
  EXPECT_EQ(errorOf(parseWinoGrande(R"({"context_options": ["a"], "continuation": "c", "gold": 0})",
                                    "w.jsonl")),
            "w.jsonl:1: expected \"context_options\", an array of at least 2 strings");
  EXPECT_EQ(errorOf(parseLambada(R"({"context": "a"})", "l.jsonl")),
            "l.jsonl:1: missing string \"continuation\"");
  EXPECT_EQ(errorOf(parseLambada("", "l.jsonl")), "l.jsonl: no items");
}

TEST(Tasks, LoadTaskMMLUFolderShotsAndLimit) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qcc-mmlu", dir));
  auto write = [&](StringRef rel, StringRef text) {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, rel);
    llvm::sys::fs::create_directories(llvm::sys::path::parent_path(p));
    std::error_code ec;
    llvm::raw_fd_ostream os(p, ec);
    ASSERT_FALSE(ec);
    os << text;
  };
  const char *hdr = "question,choice0,choice1,choice2,choice3,answer\n";
  write("test/alpha_test.csv", std::string(hdr) + "A1,a,b,c,d,0\nA2,a,b,c,d,1\nA3,a,b,c,d,2\n");
  write("test/beta_test.csv", std::string(hdr) + "B1,a,b,c,d,3\n");
  write("dev/alpha_dev.csv", std::string(hdr) + "DA,p,q,r,s,1\n");
  write("dev/beta_dev.csv", std::string(hdr) + "DB,p,q,r,s,2\n");
  TaskSet set = ok(loadTask(TaskKind::MMLU, dir, /*shots=*/1, /*limit=*/2));
  ASSERT_EQ(set.items.size(), 3u); // 2 of alpha, 1 of beta
  EXPECT_EQ(set.subjects, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(set.items[2].subject, "beta");
  EXPECT_EQ(set.items[2].choices[3].continuation, " D");
  EXPECT_EQ(set.items[2].choices[0].context,
            "The following are multiple choice questions (with answers) about beta.\n\n"
            "DB\nA. p\nB. q\nC. r\nD. s\nAnswer: C\n\nB1\nA. a\nB. b\nC. c\nD. d\nAnswer:");
  std::string msg = errorOf(loadTask(TaskKind::MMLU, dir, 2, 0));
  EXPECT_NE(msg.find("alpha_dev.csv: 1 questions, fewer than --shots 2"), std::string::npos)
      << msg;
  // Per-subject and both averages.
  std::vector<std::vector<ScoreResult>> scores;
  for (const TaskItem &it : set.items) {
    std::vector<ScoreResult> s(4, {-5.0, false, 1});
    s[size_t(it.subject == "alpha" ? 0 : it.gold)].logLikelihood = -1.0; // alpha: right once
    scores.push_back(s);
  }
  TaskResult r = computeMetrics(set, scores);
  EXPECT_NEAR(r.acc, 2.0 / 3, 1e-12);           // over questions
  EXPECT_NEAR(r.accSubjectsAvg, 0.75, 1e-12);   // (0.5 + 1) / 2
  ASSERT_EQ(r.subjects.size(), 2u);
  EXPECT_EQ(r.subjects[0].n, 2);
  EXPECT_DOUBLE_EQ(r.subjects[0].acc, 0.5);
  llvm::json::Object o = r.toJSON();
  EXPECT_TRUE(o.getObject("subjects")->getObject("beta"));
  EXPECT_TRUE(o.getNumber("acc_subjects_avg"));
  EXPECT_TRUE(o.getNumber("acc_questions_avg"));
  EXPECT_NE(errorOf(loadTask(TaskKind::PIQA, dir, 1, 0)).find("zero-shot"), std::string::npos);
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
