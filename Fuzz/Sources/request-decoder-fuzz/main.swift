import Glibc
import CLibFuzzer

// libFuzzer's flags and corpus directories come as arguments: see scripts/fuzz.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in requestDecoderFuzz(data, size) })
