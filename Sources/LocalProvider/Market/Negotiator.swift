import Foundation
import JSONModel
import Resilience
import Yagna

/// Decides what to answer a requestor's demand proposal: counter with our offer, or reject with a
/// reason the requestor can read. Pure: the market loop does the I/O.
public struct Negotiator: Sendable {
    public enum Decision: Sendable, Hashable {
        case counter
        case reject(String)
    }

    public let configuration: ProviderConfiguration
    /// The shortest and longest agreement the agent takes (ya-provider's defaults: 5 min … 10 h).
    public var minimumExpiration: Duration = .seconds(5 * 60)
    public var maximumExpiration: Duration = .seconds(10 * 3600)

    public init(configuration: ProviderConfiguration) {
        self.configuration = configuration
    }

    /// `properties` are the demand's (flat keys, as yagna returns them).
    public func decide(on properties: [String: JSONValue], now: Date = Date()) -> Decision {
        let subnet = properties["golem.node.debug.subnet"]?.string
        if subnet != configuration.subnet {
            return .reject("subnet \(subnet ?? "(none)") is not \(configuration.subnet)")
        }
        if let chosen = properties["golem.com.payment.chosen-platform"]?.string, chosen != configuration.paymentPlatform {
            return .reject("payment platform \(chosen) is not offered; use \(configuration.paymentPlatform)")
        }
        if properties["golem.com.payment.platform.\(configuration.paymentPlatform).address"]?.string == nil {
            return .reject("the demand has no address on \(configuration.paymentPlatform)")
        }
        if let ms = properties["golem.srv.comp.expiration"]?.number {
            let left = ms / 1000 - now.timeIntervalSince1970
            if left < minimumExpiration.seconds {
                return .reject("agreement expiration in \(Self.whole(left)) s is shorter than \(minimumExpiration.components.seconds) s")
            }
            if left > maximumExpiration.seconds {
                return .reject("agreement expiration in \(Self.whole(left)) s is longer than \(maximumExpiration.components.seconds) s")
            }
        } else {
            return .reject("the demand has no golem.srv.comp.expiration")
        }
        return .counter
    }
}

/// Payment terms of one agreement, read from its demand (the requestor's side) with our defaults.
public struct PaymentTerms: Sendable, Hashable {
    public var debitNoteInterval: Duration
    public var acceptTimeout: Duration
    public var platform: String

    /// What a demand may ask for either value; outside it the nearest bound is used. ya-provider's
    /// bounds for the debit-note interval (1 s … 24 h): a shorter one would flood the requestor
    /// with notes, and a value the demand makes up (1e300, infinity) must not reach `Duration`.
    public static let bounds = 1.0...86_400.0

    public init(demand properties: [String: JSONValue], configuration: ProviderConfiguration) {
        func seconds(_ key: String) -> Duration? {
            guard let value = properties[key]?.number, value > 0 else { return nil }
            let clamped = min(max(value, Self.bounds.lowerBound), Self.bounds.upperBound)
            return .seconds(saturating: clamped)
        }
        debitNoteInterval = seconds("golem.com.scheme.payu.debit-note.interval-sec?") ?? configuration.debitNoteInterval
        acceptTimeout = seconds("golem.com.payment.debit-notes.accept-timeout?") ?? configuration.debitNoteAcceptTimeout
        platform = properties["golem.com.payment.chosen-platform"]?.string ?? configuration.paymentPlatform
    }
}

extension Negotiator {
    /// Seconds for a message. A demand is anyone's text: its expiration may be 1e300 ms, which
    /// Int(Double) would trap on.
    static func whole(_ seconds: Double) -> String {
        abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}
