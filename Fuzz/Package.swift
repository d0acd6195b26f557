// swift-tools-version:6.1
import PackageDescription

// libFuzzer on the request decoder (RequestCodec.decode), outside the main package: the whole
// graph of a package is built with `-sanitize=fuzzer`, and the decoder needs only these modules,
// not the bridge's NIO/GRDB/PostgreSQL graph (a clean instrumented build of this package takes about
// a minute; of the main package, many). The sources are the main package's own, by symlink:
// Sources/{JSONModel,GolemJobs,Resilience} and the decoder's files of Sources/Bridge/Contract.
// Run it with scripts/fuzz.
let package = Package(
    name: "golem-bridge-fuzz",
    dependencies: [
        // The versions of the main package.
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
    ],
    targets: [
        .target(name: "Resilience"),
        .target(name: "JSONModel"),
        .target(
            name: "GolemJobs",
            dependencies: [
                "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "RequestDecoding", dependencies: ["GolemJobs", "JSONModel"]),
        .target(name: "CLibFuzzer"),
        // Links only with -sanitize=fuzzer, which brings libFuzzer's driver.
        .executableTarget(name: "request-decoder-fuzz", dependencies: ["RequestDecoding", "CLibFuzzer"]),
    ]
)
