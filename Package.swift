// swift-tools-version:6.1
import PackageDescription
import Foundation

// What each module is for and which it depends on: README "Architecture" (one list, kept in step
// with this file by scripts/check-package.py, which also fails on an import a target does not declare).
//
// No `platforms:`. The package builds on Linux only (bubblewrap, vfork and Glibc in the sandbox,
// librabbitmq from apt), and that list names minimum versions of Apple platforms, which it does not
// build on; Linux needs no entry.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

// The release link of golem-bridge, for its idle RSS (BENCHMARKS.md "Idle RSS (issue 13)": 39.3–41.4 MB
// dynamic, about 33 with this, 29.5–31.7 with the opt-in `noPIE` below). The Swift runtime, Foundation and ICU linked in statically: only the pages
// it uses are resident, not each shared library's relocated data and symbol tables. The libraries are
// named because the modules are compiled against the shared Foundation, whose autolink names only
// -lFoundation (`--static-swift-stdlib` recompiles everything instead). `--no-export-dynamic` undoes
// the `-export-dynamic` of the toolchain's static-stdlib-args.lnk: nothing looks our symbols up by
// name, and the table of them was 2.5 MB resident.
let leanRelease = [
    "-static-stdlib",
    "-lFoundation", "-lFoundationInternationalization", "-lFoundationEssentials", "-lCoreFoundation",
    "-l_FoundationICU", "-l_FoundationCollections", "-l_FoundationCShims",
    "-lswiftDispatch", "-ldispatch", "-lBlocksRuntime", "-lstdc++", "-lm",
    "-Xlinker", "--no-export-dynamic",
] + (ProcessInfo.processInfo.environment["GOLEM_BRIDGE_NO_PIE"] == "1" ? noPIE : [])

/// Opt-in (`GOLEM_BRIDGE_NO_PIE=1 swift build -c release`): a binary that is not position-independent.
/// Its own relocations (3.5 MB of .rela.dyn, and the pages of metadata they write) are resolved at link
/// time: about 2 MB less idle RSS (BENCHMARKS.md, "Idle RSS"). Not the default: the executable's own
/// code and data would load at a fixed address, without ASLR, in a daemon that parses untrusted input.
let noPIE = ["-Xclang-linker", "-no-pie"]

let package = Package(
    name: "golem-bridge",
    products: [
        .executable(name: "golem-bridge", targets: ["golem-bridge"]),
        .executable(name: "golem-sandbox-warden", targets: ["golem-sandbox-warden"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "GolemJobs", targets: ["GolemJobs"]),
        .library(name: "FlexBuffers", targets: ["FlexBuffers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", exact: "1.6.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        // Already in the graph through AsyncHTTPClient and Hummingbird; declared because Yagna,
        // GolemBackend and LocalProvider import NIOCore/NIOHTTP1 themselves. The version resolved there.
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        // Already in the graph through swift-nio-extras (AsyncHTTPClient, Hummingbird); the Bridge
        // takes SHA-256 from it (a rejected request's key and event ids). The version resolved there.
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        // The shared journal of N bridges (`--journal postgres://…`): async NIO, nothing blocks the pool.
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // Already in the graph through AsyncHTTPClient and postgres-nio; the PostgreSQL journal's
        // `sslmode=require` takes its client configuration from it. The version resolved there.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Sources/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        // The one backoff (retries, reconnects, polls) and Duration conversions that never trap.
        .target(name: "Resilience", swiftSettings: strict),
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ", "Resilience",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "GolemJobs",
            dependencies: [
                "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(name: "FlexBuffers", swiftSettings: strict),
        .target(name: "JSONModel", swiftSettings: strict),
        // Our own small resolver beside ArgumentParser rather than swift-configuration 1.4.0 (in the
        // graph through Hummingbird): its getters with a default fall back to the default when a value
        // does not parse, and its JSON file provider cannot list the file's keys to refuse an unknown one.
        .target(
            name: "BridgeSettings",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // vfork + rlimits + uid drop + exec in C: Swift cannot run code safely in a vfork child.
        .target(name: "CSandboxSpawn", path: "Sources/CSandboxSpawn"),
        // PID 1 of a warm sandbox: runs one job at a time and resets the sandbox between jobs.
        // Plain C, exec'd by bubblewrap inside the sandbox, where no Swift runtime is mounted: SwiftPM
        // links every executable against libswiftCore, so it is linked in statically (unused here).
        .executableTarget(
            name: "golem-sandbox-warden", path: "Sources/golem-sandbox-warden",
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        // Blocking file and SQLite work off Swift's cooperative pool, on NIO's blocking thread pool.
        .target(
            name: "BlockingWork",
            dependencies: [.product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "Sandbox",
            dependencies: [
                "CSandboxSpawn", "Resilience", "BlockingWork",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "LocalBackend",
            dependencies: [
                "GolemJobs", "Sandbox", "BlockingWork",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // yagna's REST API (market, activity, payment, GSB services), shared by the Golem backend
        // and the local provider agent.
        .target(
            name: "Yagna",
            dependencies: [
                "JSONModel", "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // GFTP file transfer over yagna's service bus: the requestor serves files on the GSB
        // WebSocket API; the provider agent calls them over the bus's own TCP protocol (ya-sb-proto).
        .target(
            name: "GFTP",
            dependencies: [
                "FlexBuffers", "Yagna",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The requestor flow over yagna, the rental pool, budget and recovery. Its state file is its
        // own (GRDB), so the core and the Bridge journal know nothing of Golem.
        .target(
            name: "GolemBackend",
            dependencies: [
                "GolemJobs", "Yagna", "GFTP", "JSONModel", "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The provider agent for the local Golem network: market, activity, an exe-unit over yagna's
        // GSB WebSocket API (FlexBuffers), commands in the Sandbox, debit notes and invoices.
        .target(
            name: "LocalProvider",
            dependencies: [
                "Yagna", "GFTP", "Sandbox", "FlexBuffers", "JSONModel", "Resilience", "BlockingWork",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Bridge",
            dependencies: [
                "AMQP", "GolemJobs", "JSONModel", "Resilience", "BlockingWork",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // GET /metrics and /healthz over Hummingbird: no HTTP server of our own.
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The live dashboard on the HTTP endpoint: jobs fed by the bridge's own events, the JSON API
        // under /api/, server-sent events, and a page with no framework and no build step.
        .target(
            name: "Dashboard",
            dependencies: [
                "GolemJobs", "JSONModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "golem-bridge",
            dependencies: [
                "Bridge", "LocalBackend", "GolemBackend", "LocalProvider", "Yagna", "AMQP", "GolemJobs",
                "MetricsEndpoint", "Dashboard", "BridgeSettings", "JSONModel", "BlockingWork",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // `golem-bridge jobs` reads the dashboard's API.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(leanRelease, .when(configuration: .release))]
        ),
        .executableTarget(
            name: "amqp-bench",
            dependencies: ["AMQP", "Resilience", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(name: "ResilienceTests", dependencies: ["Resilience"], swiftSettings: strict),
        .testTarget(
            name: "AMQPTests",
            dependencies: ["AMQP", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The env file of scripts/golem-local, for the test targets that talk to the real yagna.
        .target(
            name: "GolemLocalTestSupport",
            dependencies: ["Yagna", .product(name: "Logging", package: "swift-log")],
            path: "Tests/GolemLocalTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "YagnaTests",
            dependencies: ["Yagna", "GolemLocalTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GolemBackendTests",
            dependencies: [
                "GolemBackend", "GolemJobs", "Yagna", "JSONModel", "GolemLocalTestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LocalProviderTests",
            dependencies: [
                "LocalProvider", "GFTP", "FlexBuffers", "Yagna", "JSONModel", "Sandbox", "GolemLocalTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GFTPTests",
            dependencies: ["GFTP", "FlexBuffers", "Yagna", "GolemLocalTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MetricsEndpointTests",
            dependencies: [
                "MetricsEndpoint",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GolemJobsTests",
            dependencies: [
                "GolemJobs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: [
                "Dashboard", "GolemJobs", "JSONModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "FlexBuffersTests", dependencies: ["FlexBuffers"], swiftSettings: strict),
        .testTarget(name: "JSONModelTests", dependencies: ["JSONModel"], swiftSettings: strict),
        .testTarget(
            name: "BridgeSettingsTests",
            // Bridge, GolemBackend, LocalProvider, Yagna: the library defaults are held to the tables'.
            dependencies: [
                "BridgeSettings", "Bridge", "GolemBackend", "LocalProvider", "Yagna",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SandboxTests",
            dependencies: ["Sandbox", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LocalBackendTests",
            dependencies: ["LocalBackend", "GolemJobs", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "BridgeTests",
            dependencies: [
                "Bridge", "GolemJobs", "JSONModel",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                "AMQP", .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
    ]
)
