import BlockingWork
import ArgumentParser
import BridgeSettings

extension Option where Value == String? {
    /// The flag of a setting: `--<name>`, with its help from the table. Its text is parsed by
    /// ``SettingSources`` like the environment's and the config file's, so all three are bounded alike.
    init<Setting: AnySetting>(_ setting: Setting) {
        self.init(name: .customLong(setting.name), help: ArgumentHelp(setting.help))
    }
}

/// Runs `body`, reporting a setting that cannot be used as ArgumentParser reports a bad flag: the
/// message, the usage, exit status 64. Resolving reads files (the `--config` file, the app key's), so
/// `body` runs on the blocking pool, never on a cooperative thread.
func resolvingSettings<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    do {
        return try await BlockingIO.run { () throws -> T in try body() }
    } catch let error as SettingError {
        throw ValidationError(error.description)
    }
}
