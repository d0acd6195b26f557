/// A failure at run time (broker unreachable, no answer): printed as `Error: ...`, exit status 1,
/// without the usage text that argument errors get.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
