//===- Memory.cpp - process memory as the OS reports it -----------------------===//
#include "qcc/Driver/Memory.h"

#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>

namespace qcc::driver {

uint64_t peakRssBytes() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
#ifdef __APPLE__
  return uint64_t(ru.ru_maxrss);
#else
  return uint64_t(ru.ru_maxrss) * 1024;
#endif
}

uint64_t currentRssBytes() {
#ifdef __linux__
  FILE *f = std::fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  unsigned long long size = 0, resident = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2)
    return 0;
  return uint64_t(resident) * uint64_t(sysconf(_SC_PAGESIZE));
#else
  return 0;
#endif
}

} // namespace qcc::driver
