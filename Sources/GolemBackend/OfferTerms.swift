import Foundation
import GolemJobs
import JSONModel
import Yagna

/// What a provider's offer asks: its linear prices and resources, read from the offer's properties.
public struct OfferTerms: Sendable, Hashable {
    /// GLM per second of environment (`golem.usage.duration_sec`).
    public var envPerSecond: Double
    /// GLM per CPU second (`golem.usage.cpu_sec`).
    public var cpuPerSecond: Double
    /// GLM once, at the start (the last linear coefficient).
    public var startPrice: Double
    /// `golem.inf.cpu.threads`, 1 when absent.
    public var cpuThreads: Int
    /// `golem.node.id.name`, empty when absent.
    public var providerName: String

    public init(envPerSecond: Double, cpuPerSecond: Double, startPrice: Double, cpuThreads: Int = 1, providerName: String = "") {
        self.envPerSecond = envPerSecond
        self.cpuPerSecond = cpuPerSecond
        self.startPrice = startPrice
        self.cpuThreads = cpuThreads
        self.providerName = providerName
    }

    /// Reads `golem.com.pricing.model.linear.coeffs` by `golem.com.usage.vector`; the start price is
    /// the coefficient after the vector's. Throws a sentence naming the missing or broken property.
    public init(properties: [String: JSONValue]) throws(OfferTermsError) {
        guard properties["golem.com.pricing.model"]?.string ?? "linear" == "linear" else {
            throw OfferTermsError("pricing model \(properties["golem.com.pricing.model"]?.string ?? "?") is not linear")
        }
        guard let coefficients = properties["golem.com.pricing.model.linear.coeffs"]?.array?.compactMap(\.number) else {
            throw OfferTermsError("no golem.com.pricing.model.linear.coeffs")
        }
        guard let vector = properties["golem.com.usage.vector"]?.array?.compactMap(\.string) else {
            throw OfferTermsError("no golem.com.usage.vector")
        }
        guard coefficients.count == vector.count + 1, coefficients.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw OfferTermsError("\(coefficients.count) linear coefficients for a usage vector of \(vector.count) (want one more, all ≥ 0)")
        }
        func price(_ usage: String) -> Double {
            vector.firstIndex(of: usage).map { coefficients[$0] } ?? 0
        }
        self.init(
            envPerSecond: price("golem.usage.duration_sec"),
            cpuPerSecond: price("golem.usage.cpu_sec"),
            startPrice: coefficients[vector.count],
            cpuThreads: try Self.threads(properties["golem.inf.cpu.threads"]),
            providerName: properties["golem.node.id.name"]?.string ?? ""
        )
    }

    /// `golem.inf.cpu.threads`: a count from 1 to 2^20. An offer is anyone's text, so a value that
    /// Int(Double) would trap on (1e300) is refused as the offer's fault, never crashes the bridge.
    static func threads(_ value: JSONValue?) throws(OfferTermsError) -> Int {
        guard let value else { return 1 }
        guard let n = value.number, n >= 1, n <= 1_048_576, n.rounded() == n else {
            throw OfferTermsError("golem.inf.cpu.threads is not a count from 1 to 1048576")
        }
        return Int(n)
    }

    /// The most this offer can cost over `hours` with every thread busy: start + env + CPU.
    public func maxCost(hours: Double) -> Double {
        startPrice + hours * 3600 * (envPerSecond + cpuPerSecond * Double(cpuThreads))
    }

    /// Why the offer breaks the job's price limits, or `nil` when it meets them.
    /// Linear: each price at most its limit (golem-js 3). Burn rate: the average hourly cost over
    /// the rental (start fee spread over `hours`, every thread busy) at most `avgGlmPerHour`.
    public func violation(of pricing: Pricing?, hours: Double) -> String? {
        let tolerance = 1e-12
        switch pricing {
        case nil:
            return nil
        case .linear(let maxStart, let maxCpuPerHour, let maxEnvPerHour):
            if startPrice > maxStart + tolerance { return "start price \(startPrice) > maxStartPrice \(maxStart)" }
            if cpuPerSecond * 3600 > maxCpuPerHour + tolerance { return "CPU \(cpuPerSecond * 3600)/h > maxCpuPerHourPrice \(maxCpuPerHour)" }
            if envPerSecond * 3600 > maxEnvPerHour + tolerance { return "env \(envPerSecond * 3600)/h > maxEnvPerHourPrice \(maxEnvPerHour)" }
            return nil
        case .burnRate(let average):
            let perHour = maxCost(hours: hours) / max(hours, 1.0 / 3600)
            return perHour > average + tolerance ? "burn rate \(perHour) GLM/h > avgGlmPerHour \(average)" : nil
        }
    }
}

public struct OfferTermsError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
