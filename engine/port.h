// Portability shims for the few compiler hints the hot loops use, so no
// source file calls a GCC builtin directly and the code builds with any
// C++20 compiler (the hints simply vanish where unsupported).

#ifndef KIN_ENGINE_PORT_H_
#define KIN_ENGINE_PORT_H_

// KIN_PREFETCH(addr): hint that *addr will be read soon. No effect on
// behaviour; compiles to nothing on compilers without the builtin.
#if defined(__GNUC__) || defined(__clang__)
#define KIN_PREFETCH(addr) __builtin_prefetch(addr)
#else
#define KIN_PREFETCH(addr) static_cast<void>(addr)
#endif

#endif  // KIN_ENGINE_PORT_H_
