//===- Memory.h - process memory as the OS reports it -------------------------===//
#ifndef QCC_DRIVER_MEMORY_H
#define QCC_DRIVER_MEMORY_H

#include <cstdint>

namespace qcc::driver {

/// Peak resident set size of this process so far, in bytes (getrusage's ru_maxrss: KiB on
/// Linux, bytes on macOS). Resident pages of mapped weight files count, as they should: they are
/// memory the model occupies. 0 where the OS does not say.
uint64_t peakRssBytes();

/// Current resident set size in bytes (/proc/self/statm on Linux); 0 where unavailable.
uint64_t currentRssBytes();

} // namespace qcc::driver

#endif // QCC_DRIVER_MEMORY_H
