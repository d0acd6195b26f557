import ArgumentParser
import BridgeSettings
import Foundation
import GolemBackend
import GolemJobs
import Yagna

/// `serve --backend golem` settings (``GolemSettings``). The app key comes only from the environment
/// or a file, never a flag (a flag shows in `ps`), and is never logged.
struct GolemOptions: ParsableArguments {
    static let settings = GolemSettings()

    @Option(GolemOptions.settings.yagnaApiUrl) var yagnaApiUrl: String?
    @Option(GolemOptions.settings.yagnaAppkeyFile) var yagnaAppkeyFile: String?
    @Option(GolemOptions.settings.paymentDriver) var paymentDriver: String?
    @Option(GolemOptions.settings.paymentNetwork) var paymentNetwork: String?
    @Option(GolemOptions.settings.paymentPlatform) var paymentPlatform: String?
    @Option(GolemOptions.settings.subnet) var subnet: String?
    @Option(GolemOptions.settings.budget) var budget: String?
    @Option(GolemOptions.settings.imageTag) var imageTag: String?
    @Option(GolemOptions.settings.imageHash) var imageHash: String?
    @Option(GolemOptions.settings.imageUrl) var imageUrl: String?
    @Option(GolemOptions.settings.registryUrl) var registryUrl: String?
    @Option(GolemOptions.settings.poolMax) var poolMax: String?
    @Option(GolemOptions.settings.poolMin) var poolMin: String?
    @Option(GolemOptions.settings.poolIdleSeconds) var poolIdleSeconds: String?
    @Option(GolemOptions.settings.negotiationTimeout) var negotiationTimeout: String?
    @Option(GolemOptions.settings.rentHours) var rentHours: String?
    @Option(GolemOptions.settings.debitNoteInterval) var debitNoteInterval: String?
    @Option(GolemOptions.settings.golemState) var golemState: String?

    /// The Golem backend's configuration; reads the app key file if one is given (blocking, at start).
    func configuration(sources: SettingSources, concurrency: Int, journalPath: String) throws -> GolemBackendConfiguration {
        let table = Self.settings
        let key: String
        if let file = try sources.value(table.yagnaAppkeyFile, flag: yagnaAppkeyFile) {
            do {
                key = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw SettingError("cannot read the yagna app key file \(file): \(error.localizedDescription)")
            }
        } else if let value = try sources.value(table.yagnaAppkey, flag: nil) {
            key = value
        } else {
            throw SettingError(
                "--backend golem needs a yagna app key: set \(table.yagnaAppkey.environment.joined(separator: " or ")) or --yagna-appkey-file")
        }
        guard !key.isEmpty else { throw SettingError("the yagna app key is empty") }

        let hash = try sources.value(table.imageHash, flag: imageHash)
        let imageURL = try sources.value(table.imageUrl, flag: imageUrl)
        guard imageURL == nil || hash != nil else { throw SettingError("--image-url needs --image-hash") }
        let package = hash != nil
            ? PackageSpec(imageHash: hash, imageUrl: imageURL)
            : PackageSpec(imageTag: try sources.value(table.imageTag, flag: imageTag))
        let poolMaxValue = try sources.value(table.poolMax, flag: poolMax) ?? concurrency
        let poolMinValue = try sources.value(table.poolMin, flag: poolMin)
        guard poolMinValue <= poolMaxValue else {
            throw SettingError("--pool-min (\(poolMinValue)) must not exceed --pool-max (\(poolMaxValue)); --pool-max 0 means no pool")
        }
        var configuration = GolemBackendConfiguration(
            yagna: YagnaConfiguration(apiURL: try sources.value(table.yagnaApiUrl, flag: yagnaApiUrl), appKey: key),
            paymentDriver: try sources.value(table.paymentDriver, flag: paymentDriver),
            paymentNetwork: try sources.value(table.paymentNetwork, flag: paymentNetwork),
            paymentPlatform: try sources.value(table.paymentPlatform, flag: paymentPlatform),
            subnet: try sources.value(table.subnet, flag: subnet),
            budget: try sources.value(table.budget, flag: budget),
            defaultPackage: package,
            registryURL: try sources.value(table.registryUrl, flag: registryUrl),
            negotiationTimeout: .seconds(try sources.value(table.negotiationTimeout, flag: negotiationTimeout)),
            pool: RentalPoolPolicy(
                maxSize: poolMaxValue, minSize: poolMinValue,
                idleTimeout: .seconds(try sources.value(table.poolIdleSeconds, flag: poolIdleSeconds))
            ),
            statePath: try sources.value(table.golemState, flag: golemState) ?? journalPath + ".golem"
        )
        configuration.defaultMarket.rentHours = try sources.value(table.rentHours, flag: rentHours)
        configuration.debitNoteInterval = try sources.value(table.debitNoteInterval, flag: debitNoteInterval)
        return configuration
    }
}
