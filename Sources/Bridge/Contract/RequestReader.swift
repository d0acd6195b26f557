import GolemJobs
import JSONModel

/// Reads a parsed request object into a `JobSpec`, naming the field in every rejection.
struct RequestReader {
    let limits: RequestLimits
    let jobId: String?

    private static let topLevelKeys: Set<String> = [
        "jobId", "package", "market", "work", "timeoutSeconds", "maxAttempts", "labels",
    ]
    private static let packageKeys: Set<String> = [
        "imageTag", "imageHash", "imageUrl", "minCpuCores", "minCpuThreads", "minMemGib", "minStorageGib",
        "capabilities", "runtime",
    ]
    /// Upper bound for the integer resource fields (cores, threads).
    static let maxCount = 1_000_000

    func reject(_ message: String) -> RequestRejection {
        RequestRejection(.schema, message, jobId: jobId)
    }

    mutating func spec(_ members: [JSONMember]) throws(RequestRejection) -> JobSpec {
        let object = JSONValue.object(members)
        if object["payment"] != nil {
            // Not a field, but a refusal that says why rather than "unknown field".
            throw reject(
                "payment is not a per-job option: the bridge pays every job from one allocation on its own payment network "
                    + "(serve --payment-network: hoodi by default, polygon for mainnet GLM), and one budget cannot mix test and real GLM; "
                    + "send jobs for another network to a bridge configured for it (its own --prefix)")
        }
        try onlyKeys(members, Self.topLevelKeys, at: nil)

        let package = try object["package"].map { v throws(RequestRejection) in try self.package(v) }
        let market = try object["market"].map { v throws(RequestRejection) in try self.market(v) }
        guard let workValue = object["work"] else { throw reject("work is required: a list of one or more steps") }
        let work = try self.work(workValue)
        var timeout: Duration?
        if let value = object["timeoutSeconds"] {
            timeout = .seconds(try timeoutSeconds(value, at: "timeoutSeconds"))
        }
        var maxAttempts = RequestCodec.defaultMaxAttempts
        if let value = object["maxAttempts"] {
            maxAttempts = try integer(value, at: "maxAttempts", in: 1...RequestCodec.maxAttemptsLimit)
        }
        var labels: [String: String] = [:]
        if let value = object["labels"] { labels = try self.labels(value) }
        return JobSpec(
            package: package, market: market, work: work, timeout: timeout, maxAttempts: maxAttempts, labels: labels)
    }

    // MARK: Sections

    func package(_ value: JSONValue) throws(RequestRejection) -> PackageSpec {
        let members = try objectMembers(value, at: "package")
        try onlyKeys(members, Self.packageKeys, at: "package")
        var spec = PackageSpec()
        spec.imageTag = try value["imageTag"].map { v throws(RequestRejection) in try nonEmptyString(v, at: "package.imageTag") }
        spec.imageHash = try value["imageHash"].map { v throws(RequestRejection) in try nonEmptyString(v, at: "package.imageHash") }
        spec.imageUrl = try value["imageUrl"].map { v throws(RequestRejection) in try nonEmptyString(v, at: "package.imageUrl") }
        guard spec.imageTag != nil || spec.imageHash != nil else {
            throw reject("package must name its image with imageTag or imageHash")
        }
        if spec.imageUrl != nil && spec.imageHash == nil {
            throw reject("package.imageUrl needs package.imageHash, so the downloaded image can be verified")
        }
        spec.minCpuCores = try value["minCpuCores"].map { v throws(RequestRejection) in
            try integer(v, at: "package.minCpuCores", in: 1...Self.maxCount)
        }
        spec.minCpuThreads = try value["minCpuThreads"].map { v throws(RequestRejection) in
            try integer(v, at: "package.minCpuThreads", in: 1...Self.maxCount)
        }
        spec.minMemGib = try value["minMemGib"].map { v throws(RequestRejection) in try positiveNumber(v, at: "package.minMemGib") }
        spec.minStorageGib = try value["minStorageGib"].map { v throws(RequestRejection) in
            try positiveNumber(v, at: "package.minStorageGib")
        }
        if let caps = value["capabilities"] {
            guard case .array(let items) = caps else { throw reject("package.capabilities must be a list of strings") }
            var out: [String] = []
            for (i, item) in items.enumerated() { out.append(try nonEmptyString(item, at: "package.capabilities[\(i)]")) }
            spec.capabilities = out
        }
        spec.runtime = try value["runtime"].map { v throws(RequestRejection) in try nonEmptyString(v, at: "package.runtime") }
        return spec
    }

    func market(_ value: JSONValue) throws(RequestRejection) -> MarketSpec {
        let members = try objectMembers(value, at: "market")
        try onlyKeys(members, ["rentHours", "pricing", "providers", "subnetTag"], at: "market")
        var spec = MarketSpec()
        spec.rentHours = try value["rentHours"].map { v throws(RequestRejection) in
            let hours = try number(v, at: "market.rentHours")
            guard RequestCodec.rentHours.contains(hours) else {
                throw reject("market.rentHours must be from 0.0833 (5 minutes) to 24 hours, the agreements providers accept; got \(hours)")
            }
            return hours
        }
        if let pricing = value["pricing"] {
            let pricingMembers = try objectMembers(pricing, at: "market.pricing")
            switch pricing["model"] {
            case .string("linear"):
                try onlyKeys(
                    pricingMembers, ["model", "maxStartPrice", "maxCpuPerHourPrice", "maxEnvPerHourPrice"],
                    at: "market.pricing")
                func price(_ key: String) throws(RequestRejection) -> Double {
                    guard let v = pricing[key] else {
                        throw reject("market.pricing.\(key) is required for the linear model")
                    }
                    return try nonNegativeNumber(v, at: "market.pricing.\(key)")
                }
                spec.pricing = .linear(
                    maxStartPrice: try price("maxStartPrice"), maxCpuPerHourPrice: try price("maxCpuPerHourPrice"),
                    maxEnvPerHourPrice: try price("maxEnvPerHourPrice"))
            case .string("burn-rate"):
                try onlyKeys(pricingMembers, ["model", "avgGlmPerHour"], at: "market.pricing")
                guard let v = pricing["avgGlmPerHour"] else {
                    throw reject("market.pricing.avgGlmPerHour is required for the burn-rate model")
                }
                spec.pricing = .burnRate(avgGlmPerHour: try positiveNumber(v, at: "market.pricing.avgGlmPerHour"))
            default:
                throw reject("market.pricing.model must be \"linear\" or \"burn-rate\"")
            }
        }
        spec.providers = try value["providers"].map { v throws(RequestRejection) in try providers(v) }
        spec.subnetTag = try value["subnetTag"].map { v throws(RequestRejection) in
            let tag = try string(v, at: "market.subnetTag")
            guard RequestCodec.isValidSubnetTag(tag) else {
                throw reject("market.subnetTag must be 1 to 64 of A-Z a-z 0-9 . _ - (it is written into the demand's constraints)")
            }
            return tag
        }
        return spec
    }

    /// `market.providers`: `only`, `exclude`, `prefer`, each a list of provider ids (node addresses)
    /// or names.
    func providers(_ value: JSONValue) throws(RequestRejection) -> ProviderChoice {
        let members = try objectMembers(value, at: "market.providers")
        try onlyKeys(members, ["only", "exclude", "prefer"], at: "market.providers")
        func list(_ key: String) throws(RequestRejection) -> [String] {
            guard let items = value[key] else { return [] }
            let at = "market.providers.\(key)"
            guard case .array(let entries) = items else { throw reject("\(at) must be a list of provider ids (0x…) or names") }
            guard entries.count <= RequestCodec.maxProviderEntries else {
                throw reject("\(at) has \(entries.count) entries, more than the limit of \(RequestCodec.maxProviderEntries)")
            }
            var out: [String] = []
            for (i, entry) in entries.enumerated() {
                let text = try nonEmptyString(entry, at: "\(at)[\(i)]")
                guard text.unicodeScalars.count <= RequestCodec.maxProviderEntryLength else {
                    throw reject("\(at)[\(i)] must be at most \(RequestCodec.maxProviderEntryLength) characters long")
                }
                out.append(text)
            }
            return out
        }
        let choice = ProviderChoice(only: try list("only"), exclude: try list("exclude"), prefer: try list("prefer"))
        if !choice.only.isEmpty, let entry = choice.only.first(where: { ProviderChoice.names(choice.exclude, id: $0, name: $0) }) {
            throw reject("market.providers names \"\(entry)\" in both only and exclude")
        }
        return choice
    }

    func work(_ value: JSONValue) throws(RequestRejection) -> [WorkStep] {
        guard case .array(let items) = value else { throw reject("work must be a list of steps") }
        guard !items.isEmpty else { throw reject("work must have at least one step") }
        guard items.count <= limits.maxSteps else {
            throw reject("work has \(items.count) steps, more than the limit of \(limits.maxSteps)")
        }
        var steps: [WorkStep] = []
        steps.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { steps.append(try step(item, at: "work[\(i)]")) }
        return steps
    }

    func step(_ value: JSONValue, at path: String) throws(RequestRejection) -> WorkStep {
        let kinds = StepKind.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .object(let members) = value else {
            throw reject("\(path) must be an object with one key naming its kind (\(kinds))")
        }
        if let unknown = members.first(where: { StepKind(rawValue: $0.key) == nil }) {
            throw RequestRejection(
                .unknownStep, "\(path) has the unknown step kind \"\(unknown.key)\"; known kinds: \(kinds)", jobId: jobId)
        }
        guard members.count == 1, let member = members.first, let kind = StepKind(rawValue: member.key) else {
            throw reject("\(path) must have exactly one key naming its kind (\(kinds))")
        }
        let at = "\(path).\(member.key)"
        let body = member.value
        switch kind {
        case .run:
            return .run(try run(body, at: at))
        case .uploadData:
            try fields(body, at: at, required: ["to", "base64"])
            let to = try golemPath(body["to"]!, at: "\(at).to")
            guard case .string(let text) = body["base64"]! else { throw reject("\(at).base64 must be a string") }
            guard let bytes = Self.decodeBase64(text) else {
                throw reject("\(at).base64 must be standard padded base64 (A-Z a-z 0-9 + / and =, no whitespace)")
            }
            return .uploadData(to: to, bytes: bytes)
        case .uploadJson:
            try fields(body, at: at, required: ["to", "value"])
            let to = try golemPath(body["to"]!, at: "\(at).to")
            return .uploadJson(to: to, json: body["value"]!.encoded())
        case .downloadData:
            try fields(body, at: at, required: ["from"])
            return .downloadData(from: try golemPath(body["from"]!, at: "\(at).from"))
        case .downloadJson:
            try fields(body, at: at, required: ["from"])
            return .downloadJson(from: try golemPath(body["from"]!, at: "\(at).from"))
        case .transfer:
            try fields(body, at: at, required: ["from", "to"])
            let from = try httpURL(body["from"]!, at: "\(at).from")
            return .transfer(from: from, to: try golemPath(body["to"]!, at: "\(at).to"))
        }
    }

    func run(_ value: JSONValue, at path: String) throws(RequestRejection) -> RunStep {
        if case .string = value {
            return RunStep(.shell(try commandString(value, at: path)))
        }
        guard case .object(let members) = value else {
            throw reject("\(path) must be a shell line (string) or an object with command")
        }
        try onlyKeys(members, ["command", "args", "env", "timeoutSeconds", "allowFailure", "stream"], at: path)
        guard let commandValue = value["command"] else { throw reject("\(path).command is required") }
        let command = try commandString(commandValue, at: "\(path).command")
        var args: [String] = []
        if let argsValue = value["args"] {
            guard case .array(let items) = argsValue else { throw reject("\(path).args must be a list of strings") }
            for (i, item) in items.enumerated() {
                guard case .string = item else { throw reject("\(path).args[\(i)] must be a string") }
                args.append(try commandString(item, at: "\(path).args[\(i)]", allowEmpty: true))
            }
        }
        var env: [String: String] = [:]
        if let envValue = value["env"] {
            guard case .object(let pairs) = envValue else {
                throw reject("\(path).env must be an object of string values")
            }
            for pair in pairs {
                guard Self.isEnvName(pair.key) else {
                    throw reject("\(path).env has the invalid variable name \"\(pair.key)\" (letters, digits, _; not starting with a digit)")
                }
                env[pair.key] = try commandString(pair.value, at: "\(path).env.\(pair.key)", allowEmpty: true)
            }
        }
        var timeout: Duration?
        if let t = value["timeoutSeconds"] { timeout = .seconds(try timeoutSeconds(t, at: "\(path).timeoutSeconds")) }
        var allowFailure = false
        if let a = value["allowFailure"] {
            guard case .bool(let b) = a else { throw reject("\(path).allowFailure must be true or false") }
            allowFailure = b
        }
        var stream = false
        if let a = value["stream"] {
            guard case .bool(let b) = a else { throw reject("\(path).stream must be true or false") }
            stream = b
        }
        return RunStep(.exec(command: command, args: args), env: env, timeout: timeout, allowFailure: allowFailure, stream: stream)
    }

    func labels(_ value: JSONValue) throws(RequestRejection) -> [String: String] {
        guard case .object(let members) = value else { throw reject("labels must be an object of string values") }
        guard members.count <= limits.maxLabels else {
            throw reject("labels has \(members.count) entries, more than the limit of \(limits.maxLabels)")
        }
        var out: [String: String] = [:]
        for member in members {
            let keyLength = member.key.unicodeScalars.count
            guard keyLength >= 1, keyLength <= RequestCodec.maxLabelKeyLength else {
                throw reject("labels keys must be 1 to \(RequestCodec.maxLabelKeyLength) characters long")
            }
            guard case .string(let s) = member.value else {
                throw reject("labels.\(member.key) must be a string")
            }
            guard s.unicodeScalars.count <= RequestCodec.maxLabelValueLength else {
                throw reject("labels.\(member.key) must be at most \(RequestCodec.maxLabelValueLength) characters long")
            }
            out[member.key] = s
        }
        return out
    }

    // MARK: Field rules

    func objectMembers(_ value: JSONValue, at path: String) throws(RequestRejection) -> [JSONMember] {
        guard case .object(let members) = value else { throw reject("\(path) must be an object, not \(value.typeName)") }
        return members
    }

    func onlyKeys(_ members: [JSONMember], _ allowed: Set<String>, at path: String?) throws(RequestRejection) {
        if let unknown = members.first(where: { !allowed.contains($0.key) }) {
            let known = allowed.sorted().joined(separator: ", ")
            if let path {
                throw reject("\(path) has the unknown field \"\(unknown.key)\"; known fields: \(known)")
            }
            throw reject("the request has the unknown field \"\(unknown.key)\"; known fields: \(known)")
        }
    }

    /// An object with exactly the `required` keys.
    func fields(_ value: JSONValue, at path: String, required: [String]) throws(RequestRejection) {
        let members = try objectMembers(value, at: path)
        try onlyKeys(members, Set(required), at: path)
        for key in required where value[key] == nil { throw reject("\(path).\(key) is required") }
    }

    func string(_ value: JSONValue, at path: String) throws(RequestRejection) -> String {
        guard case .string(let s) = value else { throw reject("\(path) must be a string, not \(value.typeName)") }
        guard s.utf8.count <= limits.maxStringBytes else {
            throw reject("\(path) is longer than \(limits.maxStringBytes) bytes")
        }
        return s
    }

    func nonEmptyString(_ value: JSONValue, at path: String) throws(RequestRejection) -> String {
        let s = try string(value, at: path)
        guard !s.isEmpty else { throw reject("\(path) must not be empty") }
        return s
    }

    /// A command, argument or environment value: no NUL character (it cannot reach a process).
    func commandString(_ value: JSONValue, at path: String, allowEmpty: Bool = false) throws(RequestRejection) -> String {
        let s = allowEmpty ? try string(value, at: path) : try nonEmptyString(value, at: path)
        guard !s.utf8.contains(0) else { throw reject("\(path) must not contain a NUL character") }
        return s
    }

    static func isEnvName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
        }
    }

    /// A path inside the job's working area: `/golem/` then one or more non-empty segments, none
    /// of them `.` or `..`, no control characters, no trailing slash.
    func golemPath(_ value: JSONValue, at path: String) throws(RequestRejection) -> String {
        let s = try string(value, at: path)
        let rule = "\(path) must be an absolute path under /golem/ (e.g. /golem/work/out.txt) with no empty, '.' or '..' segments and no control characters"
        guard s.hasPrefix("/golem/") else { throw reject(rule) }
        let segments = s.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst(2)
        guard !segments.isEmpty else { throw reject(rule) }
        for segment in segments {
            guard !segment.isEmpty, !segment.elementsEqual(".".utf8), !segment.elementsEqual("..".utf8),
                !segment.contains(where: { $0 < 0x20 })
            else { throw reject(rule) }
        }
        return s
    }

    /// An `http://` or `https://` URL with a host, no whitespace or control characters.
    func httpURL(_ value: JSONValue, at path: String) throws(RequestRejection) -> String {
        let s = try string(value, at: path)
        let rule = "\(path) must be an http:// or https:// URL with a host and no spaces"
        let rest: Substring.UTF8View
        if s.hasPrefix("https://") {
            rest = s.dropFirst(8).utf8
        } else if s.hasPrefix("http://") {
            rest = s.dropFirst(7).utf8
        } else {
            throw reject(rule)
        }
        guard !rest.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { throw reject(rule) }
        let hostEnd = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") })
        guard hostEnd != rest.startIndex, !rest.isEmpty else { throw reject(rule) }
        return s
    }

    func number(_ value: JSONValue, at path: String) throws(RequestRejection) -> Double {
        guard let d = value.number, d.isFinite else { throw reject("\(path) must be a number, not \(value.typeName)") }
        return d
    }

    func positiveNumber(_ value: JSONValue, at path: String) throws(RequestRejection) -> Double {
        let d = try number(value, at: path)
        guard d > 0 else { throw reject("\(path) must be a positive number") }
        return d
    }

    func nonNegativeNumber(_ value: JSONValue, at path: String) throws(RequestRejection) -> Double {
        let d = try number(value, at: path)
        guard d >= 0 else { throw reject("\(path) must be a number of at least 0") }
        return d
    }

    func timeoutSeconds(_ value: JSONValue, at path: String) throws(RequestRejection) -> Double {
        let d = try number(value, at: path)
        guard d > 0, d <= RequestCodec.maxTimeoutSeconds else {
            throw reject("\(path) must be a positive number of seconds, at most \(Int(RequestCodec.maxTimeoutSeconds)) (30 days)")
        }
        return d
    }

    func integer(_ value: JSONValue, at path: String, in range: ClosedRange<Int>) throws(RequestRejection) -> Int {
        guard case .number = value, let i = value.int, range.contains(i) else {
            throw reject("\(path) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return i
    }
}
