/// What runs for one activity: its exe-unit, the task serving it on the service bus (its
/// registration ends with the task), and the debit-note task.
final class ActivityHandle: Sendable {
    let exeUnit: ExeUnit
    let gsbTask: Task<Void, Never>
    let debitTask: Task<Void, Never>

    init(exeUnit: ExeUnit, gsbTask: Task<Void, Never>, debitTask: Task<Void, Never>) {
        self.exeUnit = exeUnit
        self.gsbTask = gsbTask
        self.debitTask = debitTask
    }
}
