//===- Profile.cpp - bench --profile: kernel time per op and weight role ------===//
//
// The model counts and times its kernel calls (DriverModel::takeProfile: per op, per matmul
// weight); here they are grouped by op, weight role (the name without its layer, "blk.<n>.",
// and ".weight") and format, divided by the samples (decode steps or prefill calls), and
// reported slowest first, as JSON and as a table. docs/Driver.md defines the keys.
//
//===----------------------------------------------------------------------===//
#include "qcc/Driver/Bench.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

using namespace llvm;

namespace qcc::driver {

namespace {

/// "blk.12.ffn_down.weight" -> "ffn_down", "output.weight" -> "output".
std::string roleOf(StringRef name) {
  if (name.consume_front("blk.")) {
    StringRef layer = name.take_while(isDigit);
    if (!layer.empty() && name.drop_front(layer.size()).starts_with("."))
      name = name.drop_front(layer.size() + 1);
    else
      name = StringRef(name.data() - 4, name.size() + 4); // not a layer prefix: keep it
  }
  name.consume_back(".weight");
  return name.str();
}

json::Object partJSON(const ProfilePart &p) {
  json::Array rows;
  for (const ProfileRow &r : p.rows) {
    json::Object o{{"op", r.op},           {"calls", r.calls},       {"ms", r.ms},
                   {"fraction", r.fraction}};
    if (r.op == "matmul") {
      o["weights"] = r.weights;
      o["format"] = r.format;
      o["tensors"] = r.tensors;
      o["bytes"] = r.bytes;
      o["gb_s"] = r.gbS;
    }
    rows.push_back(std::move(o));
  }
  return json::Object{{"samples", p.samples},
                      {"ms", p.ms},
                      {"kernel_ms", p.kernelMs},
                      {"rows", std::move(rows)}};
}

void printPart(raw_ostream &os, StringRef what, const ProfilePart &p) {
  if (p.samples == 0)
    return;
  os << formatv("profile   {0}: {1:F3} ms per {2} ({3} samples), kernels {4:F3} ms ({5:F1}%)\n",
                what, p.ms, what == "decode" ? "step" : "call", p.samples, p.kernelMs,
                p.ms > 0 ? 100 * p.kernelMs / p.ms : 0.0);
  os << "  op          weights          format         tensors    calls         ms   share     GB/s\n";
  for (const ProfileRow &r : p.rows) {
    std::string gbs = r.op == "matmul" ? formatv("{0,8:F2}", r.gbS).str() : "       -";
    os << formatv("  {0,-10}  {1,-15}  {2,-13}  {3,7}  {4,7:F1}  {5,9:F3}  {6,5:F1}%  {7}\n", r.op,
                  r.weights.empty() ? "-" : r.weights, r.format.empty() ? "-" : r.format,
                  r.op == "matmul" ? std::to_string(r.tensors) : "-", r.calls, r.ms,
                  100 * r.fraction, gbs);
  }
}

} // namespace

ProfilePart summarizeProfile(ArrayRef<KernelProfileRow> taken, int64_t samples, double seconds) {
  struct Acc {
    uint64_t calls = 0, ns = 0, bytes = 0;
    std::set<std::string> tensors;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Acc> groups;
  for (const KernelProfileRow &k : taken) {
    Acc &a = groups[{k.op, k.weight.empty() ? "" : roleOf(k.weight), k.format}];
    a.calls += k.calls;
    a.ns += k.ns;
    a.bytes += k.bytes;
    if (!k.weight.empty())
      a.tensors.insert(k.weight);
  }
  ProfilePart p;
  p.samples = samples;
  if (samples <= 0)
    return p;
  const double n = double(samples);
  p.ms = seconds * 1e3 / n;
  for (const auto &[key, a] : groups) {
    ProfileRow r;
    std::tie(r.op, r.weights, r.format) = key;
    r.tensors = int64_t(a.tensors.size());
    r.calls = double(a.calls) / n;
    r.ms = double(a.ns) * 1e-6 / n;
    r.bytes = double(a.bytes) / n;
    r.fraction = p.ms > 0 ? r.ms / p.ms : 0;
    r.gbS = a.ns > 0 ? double(a.bytes) / double(a.ns) : 0; // bytes per ns = GB/s
    p.kernelMs += r.ms;
    p.rows.push_back(std::move(r));
  }
  std::sort(p.rows.begin(), p.rows.end(), [](const ProfileRow &a, const ProfileRow &b) {
    return std::tie(b.ms, a.op, a.weights, a.format) < std::tie(a.ms, b.op, b.weights, b.format);
  });
  return p;
}

json::Object profileJSON(const ProfileResult &p) {
  return json::Object{{"decode", partJSON(p.decode)}, {"prefill", partJSON(p.prefill)}};
}

void printProfile(raw_ostream &os, const ProfileResult &p) {
  printPart(os, "decode", p.decode);
  printPart(os, "prefill", p.prefill);
}

} // namespace qcc::driver
