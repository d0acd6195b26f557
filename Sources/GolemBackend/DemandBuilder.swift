import Foundation
import GolemJobs
import JSONModel
import Yagna

/// Builds a golem-js style demand from a job's package and market options (pure; docs/notes/yagna-requestor-api.md §3).
///
/// Property and constraint names are golem-js 3's; constraints are joined as `(&c1\n\tc2…)`.
public struct DemandBuilder: Sendable {
    public var subnet: String
    public var platform: String
    public var debitNoteAcceptTimeout: Int
    /// `golem.com.scheme.payu.debit-note.interval-sec?`: how often the provider bills while running.
    public var debitNoteInterval: Int
    /// `golem.com.scheme.payu.payment-timeout-sec?`: how long after accepting a debit note it is
    /// paid. Always sent, as golem-js does: ya-provider refuses an agreement of 10 h or more without
    /// it, and one outside 1 s … 24 h. From 10 h on (``midAgreementPaymentsFrom``) at most half the
    /// rental, so that such a rental is paid while it runs.
    public var paymentTimeout: Int

    /// ya-provider's threshold of enforcing mid-agreement payments.
    public static let midAgreementPaymentsFrom: Double = 10 * 3600

    /// The shortest expiration a demand carries: ya-provider refuses an agreement that expires in
    /// less than 5 minutes when it approves it, so a 5-minute rental gets a minute for negotiating.
    public static let minimumExpiration: Double = 6 * 60

    /// The terms come from ``GolemBackendConfiguration``, where their defaults are (no second copy here).
    public init(subnet: String, platform: String, debitNoteAcceptTimeout: Int, debitNoteInterval: Int, paymentTimeout: Int) {
        self.subnet = subnet
        self.platform = platform
        self.debitNoteAcceptTimeout = debitNoteAcceptTimeout
        self.debitNoteInterval = debitNoteInterval
        self.paymentTimeout = paymentTimeout
    }

    /// The demand for `package` (already resolved to a task package) and `market`, decorated with the
    /// allocation's payment properties and constraints. Expiration = `now` + rentHours; the job's
    /// `subnetTag` over the configured subnet.
    public func demand(
        package: PackageSpec, taskPackage: String, market: MarketSpec, decorations: DemandDecorations, now: Date
    ) -> DemandOfferBase {
        // The request codec allows 5 minutes to 24 hours; a spec built in code is held to at most the
        // same, so the millisecond arithmetic below cannot overflow Int64.
        let seconds = max(min(market.rentHours ?? 0.5, 24) * 3600, Self.minimumExpiration)
        // The request codec allows only [A-Za-z0-9._-] in a job's subnet: it goes into the constraints' text.
        let subnet = market.subnetTag ?? subnet
        var properties: [String: JSONValue] = [
            "golem.srv.caps.multi-activity": .bool(true),
            "golem.node.debug.subnet": .string(subnet),
            "golem.srv.comp.expiration": .int(Int64((now.timeIntervalSince1970 + seconds) * 1000)),
            "golem.srv.comp.vm.package_format": .string("gvmkit-squash"),
            "golem.srv.comp.task_package": .string(taskPackage),
            "golem.com.scheme.payu.debit-note.interval-sec?": .int(Int64(debitNoteInterval)),
            "golem.com.scheme.payu.payment-timeout-sec?": .int(Int64(paymentTimeout(rental: seconds))),
            "golem.com.payment.debit-notes.accept-timeout?": .int(Int64(debitNoteAcceptTimeout)),
        ]
        for property in decorations.properties { properties[property.key] = property.value }

        var constraints = [
            "(golem.com.pricing.model=linear)",
            "(golem.node.debug.subnet=\(subnet))",
            "(golem.runtime.name=\(package.runtime ?? "vm"))",
            "(golem.inf.mem.gib>=\(Self.number(package.minMemGib ?? 0.5)))",
            "(golem.inf.storage.gib>=\(Self.number(package.minStorageGib ?? 2)))",
            "(golem.inf.cpu.cores>=\(package.minCpuCores ?? 1))",
            "(golem.inf.cpu.threads>=\(package.minCpuThreads ?? 1))",
        ]
        constraints += package.capabilities.map { "(golem.runtime.capabilities=\($0))" }
        constraints += decorations.constraints
        return DemandOfferBase(properties: properties, constraints: Self.join(constraints))
    }

    /// The payment timeout for a rental of `seconds`.
    func paymentTimeout(rental seconds: Double) -> Int {
        seconds < Self.midAgreementPaymentsFrom ? paymentTimeout : max(1, min(paymentTimeout, Int(seconds / 2)))
    }

    /// The counter-proposal: the demand plus the payment platform we chose.
    public func counter(_ demand: DemandOfferBase) -> DemandOfferBase {
        var counter = demand
        counter.properties["golem.com.payment.chosen-platform"] = .string(platform)
        return counter
    }

    /// golem-js: none → `(&)`, one → bare, more → `(&c1\n\tc2…)`.
    static func join(_ constraints: [String]) -> String {
        switch constraints.count {
        case 0: "(&)"
        case 1: constraints[0]
        default: "(&" + constraints.joined(separator: "\n\t") + ")"
        }
    }

    /// `2` rather than `2.0`, `0.5` as is.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// `hash:sha3:<hash>:<url>`: what `golem.srv.comp.task_package` carries.
    public static func taskPackage(hash: String, url: String) -> String {
        "hash:sha3:\(hash):\(url)"
    }
}
