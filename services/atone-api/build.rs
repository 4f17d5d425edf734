//! Compiles `proto/atone/v1` with the pure-Rust `protox`, so a build needs no `protoc`,
//! and writes the file descriptor set that server reflection serves.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    // Every proto of the package, sorted so the descriptor set is the same on every build.
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("atone/v1"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();
    println!("cargo:rerun-if-changed={}", root.display());

    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out.join("atone_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // tonic's prost codec with a smaller first encode buffer (src/codec.rs).
        .codec_path("crate::codec::AtoneCodec")
        .compile_fds(fds)?;
    Ok(())
}
