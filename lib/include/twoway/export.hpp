/// @file
/// Symbol visibility for libtwoway. The library is compiled with hidden visibility; only declarations
/// marked TWOWAY_API are exported from the shared object.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define TWOWAY_API __attribute__((visibility("default")))
#else
#define TWOWAY_API
#endif
