// Portability shims for the few compiler hints the hot loops use, so no
// source file calls a GCC builtin directly and the code builds with any
// C++20 compiler (the hints simply vanish where unsupported).

#ifndef KIN_ENGINE_PORT_H_
#define KIN_ENGINE_PORT_H_

// KIN_PREFETCH(addr): hint that *addr will be read soon. No effect on
// behaviour; compiles to nothing on compilers without the builtin.
// Asked of the compiler itself (__has_builtin: GCC 10+, Clang) rather than
// guessed from its name, so a compiler that defines __GNUC__ without the
// builtin still builds.
#if defined(__has_builtin)
#if __has_builtin(__builtin_prefetch)
#define KIN_PREFETCH(addr) __builtin_prefetch(addr)
#endif
#endif
#ifndef KIN_PREFETCH
#define KIN_PREFETCH(addr) static_cast<void>(addr)
#endif

#endif  // KIN_ENGINE_PORT_H_
