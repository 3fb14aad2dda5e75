//! Compiles every `.proto` file under the workspace's `proto/` folder into
//! Rust (messages, clients, servers) and a descriptor set for reflection.
//!
//! tonic-prost-build 0.14 does not print `rerun-if-changed` lines itself;
//! without them every build would recompile the contract, so they are printed
//! here, one per file and folder.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let mut files = Vec::new();
    collect_protos(&proto_root, &mut files)?;
    files.sort();

    println!("cargo:rerun-if-env-changed=PROTOC");
    println!("cargo:rerun-if-changed={}", proto_root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    if std::env::var_os("PROTOC").is_none_or(|p| p.is_empty()) {
        // The vendored protoc is pinned by Cargo.lock: the system needs none.
        let protoc = protoc_bin_vendored::protoc_bin_path()?;
        // SAFETY: no other thread reads the environment in a build script.
        unsafe { std::env::set_var("PROTOC", protoc) };
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("jazz_descriptor.bin"))
        .include_file("jazz_contract.rs")
        // Methods whose issue has not landed yet answer UNIMPLEMENTED.
        .generate_default_stubs(true)
        .emit_rerun_if_changed(false)
        .compile_protos(&files, &[proto_root])?;
    Ok(())
}

/// Every `.proto` file below `dir`, recursively.
fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
