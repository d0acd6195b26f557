/// What runs for one activity: its exe-unit, the task serving it on GSB, the debit-note task, and
/// the current GSB services binding (replaced when yagna loses it).
final class ActivityHandle: Sendable {
    let exeUnit: ExeUnit
    let gsbTask: Task<Void, Never>
    let debitTask: Task<Void, Never>
    let servicesId: Mutex<String>

    init(exeUnit: ExeUnit, servicesId: String, gsbTask: Task<Void, Never>, debitTask: Task<Void, Never>) {
        self.exeUnit = exeUnit
        self.servicesId = Mutex(servicesId)
        self.gsbTask = gsbTask
        self.debitTask = debitTask
    }
}

import Synchronization
