// The release binary carries the built admin UI (ui/dist): build it again whenever the
// UI was rebuilt.
fn main() {
    println!("cargo:rerun-if-changed=../../ui/dist");
}
