// The declaration of libFuzzer's driver is in include/CLibFuzzer.h; compiler-rt defines it.
