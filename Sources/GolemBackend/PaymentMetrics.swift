import CoreMetrics

/// The payment checks' counters (docs/metrics.md): debit notes and invoices accepted, and rejected
/// because their amount does not fit the agreed prices. Both series of each exist from the start.
/// A no-op unless the process bootstrapped a metrics backend or passes a `factory`.
struct PaymentMetrics: Sendable {
    private let accepted: [GolemBackend.PaymentKind: Counter]
    private let rejected: [GolemBackend.PaymentKind: Counter]

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        func counters(_ name: String) -> [GolemBackend.PaymentKind: Counter] {
            Dictionary(uniqueKeysWithValues: GolemBackend.PaymentKind.allCases.map { kind in
                (kind, Counter(label: "golem_bridge_payment_documents_\(name)_total", dimensions: [("kind", kind.label)], factory: factory))
            })
        }
        accepted = counters("accepted")
        rejected = counters("rejected")
    }

    func accepted(_ kind: GolemBackend.PaymentKind) { accepted[kind]?.increment() }
    func rejected(_ kind: GolemBackend.PaymentKind) { rejected[kind]?.increment() }
}
