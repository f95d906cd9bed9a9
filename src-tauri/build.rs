fn main() {
    // The window shows a page served over HTTP (this computer's server, or one on the
    // LAN): the shell's own commands must be granted to it by name (capabilities/).
    let commands = &[
        "incoming_call",
        "phone_status",
        "phone_sign_in",
        "phone_act",
        "phone_devices",
        "phone_use_devices",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("the desktop app's build script runs");
}
