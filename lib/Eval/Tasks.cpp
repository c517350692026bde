//===- Tasks.cpp - batched log-likelihood scoring and task metrics -------------===//
#include "qcc/Eval/Tasks.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

using namespace llvm;

namespace qcc::eval {

namespace {

Error fail(const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); }

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// log p(target) under `logits` (stable, in double) and whether target is the argmax (first
/// index on ties, as torch.argmax).
double scorePosition(const float *logits, int64_t V, int32_t target, bool &isArgmax) {
  int64_t best = 0;
  for (int64_t i = 1; i < V; ++i)
    if (logits[i] > logits[best])
      best = i;
  const double mx = logits[best];
  double sum = 0;
  for (int64_t i = 0; i < V; ++i)
    sum += std::exp(double(logits[i]) - mx);
  isArgmax = best == target;
  return double(logits[target]) - mx - std::log(sum);
}

/// First index of the largest value (numpy.argmax).
size_t argmax(ArrayRef<double> xs) {
  return size_t(std::max_element(xs.begin(), xs.end()) - xs.begin());
}

double mean(ArrayRef<double> xs) {
  return xs.empty() ? 0.0 : std::accumulate(xs.begin(), xs.end(), 0.0) / double(xs.size());
}

} // namespace

ScoreRequest encodePair(EncodeFn encode, StringRef context, StringRef continuation) {
  // lm-eval: n_spaces = len(context) - len(context.rstrip()); the spaces move to the
  // continuation.
  StringRef ctx = context.rtrim(" \t\n\v\f\r");
  std::string cont = (context.drop_front(ctx.size()) + continuation).str();
  ScoreRequest r;
  r.context = encode(ctx);
  std::vector<int32_t> whole = encode((ctx + cont).str());
  if (whole.size() > r.context.size()) {
    r.continuation.assign(whole.begin() + r.context.size(), whole.end());
  } else if (!whole.empty()) {
    // The joint encoding is no longer than the context's (merges across the boundary): score
    // the last token of the joint encoding after the rest of it.
    r.continuation.assign(1, whole.back());
    r.context.assign(whole.begin(), whole.end() - 1);
  }
  return r;
}

Expected<std::vector<ScoreResult>> scoreRequests(LanguageModel &model,
                                                 ArrayRef<ScoreRequest> requests,
                                                 const ScoringOptions &opts,
                                                 ScoringStats *stats) {
  const int64_t maxLen = model.maxSeqLen(), V = model.vocabSize();
  if (opts.batch < 1)
    return fail("--batch must be positive");
  if (maxLen < 1 || V < 1)
    return fail("the model has no context or no vocabulary");
  ScoringStats st;
  st.requests = int64_t(requests.size());
  // Rows: distinct inputs (context + continuation, cut to maxLen + 1 tokens, minus the last).
  std::vector<std::vector<int32_t>> rows;
  std::map<std::vector<int32_t>, size_t> rowOf;
  std::vector<size_t> reqRow(requests.size());
  for (size_t r = 0; r < requests.size(); ++r) {
    const ScoreRequest &q = requests[r];
    if (q.continuation.empty())
      return fail("request " + Twine(r) + ": the continuation has no tokens");
    if (q.context.empty())
      return fail("request " + Twine(r) +
                  ": the context has no tokens (a model without BOS needs a context)");
    if (int64_t(q.continuation.size()) > maxLen)
      ++st.continuationsCut; // only its last maxLen tokens have a prediction in the window
    // Every token, the continuation's last included: it is an input nowhere but a scored
    // target (its logit is read).
    for (const std::vector<int32_t> *part : {&q.context, &q.continuation})
      for (int32_t t : *part)
        if (t < 0 || t >= V)
          return fail("request " + Twine(r) + ": token id " + Twine(t) +
                      " is outside the vocabulary of " + Twine(V));
    std::vector<int32_t> full = q.context;
    full.insert(full.end(), q.continuation.begin(), q.continuation.end());
    if (int64_t(full.size()) > maxLen + 1) {
      full.erase(full.begin(), full.end() - (maxLen + 1));
      ++st.truncated;
    }
    full.pop_back();
    auto [it, inserted] = rowOf.try_emplace(std::move(full), rows.size());
    if (inserted)
      rows.push_back(it->first);
    reqRow[r] = it->second;
  }
  // A row that is a prefix of another is read from the longer one (causal attention: the same
  // logits). In lexicographic order a row that is a prefix of any row is one of the next row.
  std::vector<size_t> host(rows.size());
  {
    std::vector<size_t> lex;
    lex.reserve(rowOf.size());
    for (auto &kv : rowOf)
      lex.push_back(kv.second);
    for (size_t i = lex.size(); i-- > 0;) {
      host[lex[i]] = lex[i];
      if (i + 1 < lex.size()) {
        const std::vector<int32_t> &a = rows[lex[i]], &b = rows[lex[i + 1]];
        if (a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin()))
          host[lex[i]] = host[lex[i + 1]];
      }
    }
  }
  rowOf.clear();
  std::vector<std::vector<size_t>> rowRequests(rows.size());
  for (size_t r = 0; r < requests.size(); ++r)
    rowRequests[host[reqRow[r]]].push_back(r);
  std::vector<size_t> order;
  for (size_t i = 0; i < rows.size(); ++i)
    if (host[i] == i)
      order.push_back(i);
  st.rows = int64_t(order.size());
  std::vector<ScoreResult> results(requests.size());
  if (order.empty()) {
    if (stats)
      *stats = st;
    return results;
  }

  // Longest first (ties in request order): calls hold rows of similar length, little padding.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rows[a].size() > rows[b].size(); });
  const int64_t longest = int64_t(rows[order[0]].size());
  if (opts.onLongestRow)
    opts.onLongestRow(longest);

  std::vector<int32_t> tokens;
  std::vector<float> logits;
  for (size_t c0 = 0; c0 < order.size(); c0 += size_t(opts.batch)) {
    const size_t c1 = std::min(order.size(), c0 + size_t(opts.batch));
    const int64_t B = int64_t(c1 - c0), T = int64_t(rows[order[c0]].size());
    tokens.clear();
    for (size_t i = c0; i < c1; ++i) {
      const std::vector<int32_t> &row = rows[order[i]];
      tokens.insert(tokens.end(), row.begin(), row.end());
      // Right padding: any valid id; causal attention keeps it out of the row's own logits.
      tokens.insert(tokens.end(), size_t(T) - row.size(), row.back());
      st.tokensPadding += T - int64_t(row.size());
    }
    if (Error e = model.reset(B))
      return std::move(e);
    if (Error e = model.forward(tokens, B, T, /*pos=*/0, logits))
      return std::move(e);
    if (int64_t(logits.size()) < B * T * V)
      return fail("forward returned " + Twine(logits.size()) + " logits, expected " +
                  Twine(B * T * V));
    ++st.forwardCalls;
    st.tokensForwarded += B * T;
    for (size_t i = c0; i < c1; ++i) {
      const size_t row = order[i];
      const int64_t b = int64_t(i - c0);
      for (size_t r : rowRequests[row]) {
        const int64_t L = int64_t(rows[reqRow[r]].size()); // the request's own input length
        const std::vector<int32_t> &cont = requests[r].continuation;
        // Continuation tokens with a prediction in the row: all, unless the continuation alone
        // is longer than the model's context (then its last L).
        const int64_t k = std::min<int64_t>(int64_t(cont.size()), L);
        const int32_t *target = cont.data() + (cont.size() - size_t(k));
        ScoreResult &res = results[r];
        res.tokens = k;
        res.greedy = true;
        for (int64_t j = 0; j < k; ++j) {
          bool isMax = false;
          res.logLikelihood +=
              scorePosition(&logits[size_t((b * T + L - k + j) * V)], V, target[j], isMax);
          res.greedy = res.greedy && isMax;
        }
      }
    }
    if (opts.progress)
      opts.progress(int64_t(c1), int64_t(order.size()));
  }
  if (stats)
    *stats = st;
  return results;
}

double meanStderr(ArrayRef<double> xs) {
  const size_t n = xs.size();
  if (n < 2)
    return 0.0;
  const double mu = mean(xs);
  double ss = 0;
  for (double x : xs)
    ss += (x - mu) * (x - mu);
  return std::sqrt(ss / double(n - 1)) / std::sqrt(double(n));
}

TaskResult computeMetrics(const TaskSet &set, ArrayRef<std::vector<ScoreResult>> scores) {
  TaskResult r;
  r.kind = set.kind;
  r.n = int64_t(set.items.size());
  std::vector<double> acc, accNorm;
  if (set.kind == TaskKind::Lambada) {
    double llSum = 0;
    for (const std::vector<ScoreResult> &s : scores) {
      acc.push_back(s[0].greedy ? 1.0 : 0.0);
      llSum += s[0].logLikelihood;
      r.continuationTokens += s[0].tokens;
    }
    r.ppl = r.continuationTokens ? std::exp(-llSum / double(r.continuationTokens)) : 0.0;
    r.pplPerItem = r.n ? std::exp(-llSum / double(r.n)) : 0.0;
  } else {
    for (size_t i = 0; i < set.items.size(); ++i) {
      const TaskItem &item = set.items[i];
      std::vector<double> ll, norm;
      for (size_t c = 0; c < item.choices.size(); ++c) {
        ll.push_back(scores[i][c].logLikelihood);
        norm.push_back(scores[i][c].logLikelihood / double(item.choices[c].normLength));
      }
      acc.push_back(int64_t(argmax(ll)) == item.gold ? 1.0 : 0.0);
      accNorm.push_back(int64_t(argmax(norm)) == item.gold ? 1.0 : 0.0);
    }
  }
  r.acc = mean(acc);
  r.accStderr = meanStderr(acc);
  r.hasAccNorm = taskHasAccNorm(set.kind);
  if (r.hasAccNorm) {
    r.accNorm = mean(accNorm);
    r.accNormStderr = meanStderr(accNorm);
  }
  if (set.kind == TaskKind::MMLU) {
    StringMap<std::vector<double>> bySubject;
    for (size_t i = 0; i < set.items.size(); ++i)
      bySubject[set.items[i].subject].push_back(acc[i]);
    double var = 0;
    for (const std::string &s : set.subjects) {
      auto it = bySubject.find(s);
      if (it == bySubject.end())
        continue;
      SubjectResult sr{s, int64_t(it->second.size()), mean(it->second), meanStderr(it->second)};
      var += sr.accStderr * sr.accStderr;
      r.subjects.push_back(sr);
    }
    if (!r.subjects.empty()) {
      double sum = 0;
      for (const SubjectResult &sr : r.subjects)
        sum += sr.acc;
      const double k = double(r.subjects.size());
      r.accSubjectsAvg = sum / k;
      r.accSubjectsAvgStderr = std::sqrt(var) / k;
    }
  }
  return r;
}

Expected<TaskResult> evaluateTask(LanguageModel &model, const TaskSet &set, EncodeFn encode,
                                  const ScoringOptions &opts) {
  if (set.items.empty())
    return fail("no items to score");
  Clock::time_point t0 = Clock::now();
  std::vector<ScoreRequest> requests;
  std::vector<size_t> first; // index of each item's first request
  // Choices of an item usually share the context: encode it once per item.
  for (const TaskItem &item : set.items) {
    first.push_back(requests.size());
    StringMap<std::vector<int32_t>> ctxCache;
    for (const TaskChoice &c : item.choices) {
      auto cached = [&](StringRef s) -> std::vector<int32_t> {
        auto it = ctxCache.find(s);
        if (it != ctxCache.end())
          return it->second;
        std::vector<int32_t> ids = encode(s);
        ctxCache[s] = ids;
        return ids;
      };
      requests.push_back(encodePair(cached, c.context, c.continuation));
    }
  }
  const double tokenizeSeconds = secondsSince(t0);
  ScoringStats stats;
  Expected<std::vector<ScoreResult>> scored = scoreRequests(model, requests, opts, &stats);
  if (!scored)
    return scored.takeError();
  std::vector<std::vector<ScoreResult>> perItem;
  for (size_t i = 0; i < set.items.size(); ++i)
    perItem.emplace_back(scored->begin() + first[i],
                         scored->begin() + first[i] + set.items[i].choices.size());
  TaskResult r = computeMetrics(set, perItem);
  r.stats = stats;
  r.tokenizeSeconds = tokenizeSeconds;
  r.seconds = secondsSince(t0);
  return r;
}

json::Object TaskResult::toJSON() const {
  json::Object o{{"task", taskName(kind)},
                 {"n", n},
                 {"acc", acc},
                 {"acc_stderr", accStderr},
                 {"requests", stats.requests},
                 {"rows", stats.rows},
                 {"forward_calls", stats.forwardCalls},
                 {"tokens_forwarded", stats.tokensForwarded},
                 {"tokens_padding", stats.tokensPadding},
                 {"truncated", stats.truncated},
                 {"continuations_cut", stats.continuationsCut},
                 {"seconds", seconds},
                 {"tokenize_seconds", tokenizeSeconds}};
  if (hasAccNorm) {
    o["acc_norm"] = accNorm;
    o["acc_norm_stderr"] = accNormStderr;
  }
  if (kind == TaskKind::Lambada) {
    o["ppl"] = ppl;
    o["ppl_per_item"] = pplPerItem;
    o["continuation_tokens"] = continuationTokens;
  }
  if (kind == TaskKind::MMLU) {
    o["acc_questions_avg"] = acc;
    o["acc_questions_avg_stderr"] = accStderr;
    o["acc_subjects_avg"] = accSubjectsAvg;
    o["acc_subjects_avg_stderr"] = accSubjectsAvgStderr;
    json::Object subj;
    for (const SubjectResult &s : subjects)
      subj[s.subject] =
          json::Object{{"n", s.n}, {"acc", s.acc}, {"acc_stderr", s.accStderr}};
    o["subjects"] = std::move(subj);
  }
  return o;
}

void TaskResult::print(raw_ostream &os) const {
  if (kind == TaskKind::MMLU) {
    os << formatv("{0,-40} {1,6} {2,8} {3,8}\n", "subject", "n", "acc", "stderr");
    for (const SubjectResult &s : subjects)
      os << formatv("{0,-40} {1,6} {2,8:F4} {3,8:F4}\n", s.subject, s.n, s.acc, s.accStderr);
  }
  os << formatv("{0,-24} {1,10} {2,10}\n", "metric", "value", "stderr");
  auto line = [&](StringRef name, double v, std::optional<double> se) {
    if (se)
      os << formatv("{0,-24} {1,10:F4} {2,10:F4}\n", name, v, *se);
    else
      os << formatv("{0,-24} {1,10:F4} {2,10}\n", name, v, "-");
  };
  if (kind == TaskKind::MMLU) {
    line("acc (questions avg)", acc, accStderr);
    line("acc (subjects avg)", accSubjectsAvg, accSubjectsAvgStderr);
  } else {
    line("acc", acc, accStderr);
  }
  if (hasAccNorm)
    line("acc_norm", accNorm, accNormStderr);
  if (kind == TaskKind::Lambada) {
    line("ppl (per token)", ppl, std::nullopt);
    line("ppl_per_item", pplPerItem, std::nullopt);
  }
  os << formatv("{0} items, {1} requests in {2} rows, {3} forward calls ({4} tokens, {5} "
                "padding), {6} truncated ({7} continuations cut); {8:F2} s\n",
                n, stats.requests, stats.rows, stats.forwardCalls, stats.tokensForwarded,
                stats.tokensPadding, stats.truncated, stats.continuationsCut, seconds);
}

} // namespace qcc::eval
