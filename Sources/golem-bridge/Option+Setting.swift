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
/// message, the usage, exit status 64.
func resolvingSettings<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SettingError {
        throw ValidationError(error.description)
    }
}
