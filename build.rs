//! Build script: converts the embedded knowledge base
//! (`src/analysis/knowledge.yaml`, which stays the source and the format the
//! config file extends) to compact JSON in `OUT_DIR`, which the binary
//! embeds instead. Every run read the YAML first, about 7 M instructions;
//! the same data as JSON reads in a fraction of that.
//!
//! Guarantees: the YAML is read into the binary's own types
//! (`src/analysis/kb_types.rs`) and written from them, so the JSON reads
//! back as the same entries (a test in `src/analysis/kb.rs` checks it; a
//! generic YAML tree would not do: `[true, false]` in a list of command
//! names are strings to the types and booleans to the tree). A YAML that
//! does not parse fails the build with the YAML's own error.

use std::path::PathBuf;

// Only read and written here: the binary reads the fields.
#[allow(dead_code)]
#[path = "src/analysis/kb_types.rs"]
mod kb_types;

fn main() {
    const SOURCE: &str = "src/analysis/knowledge.yaml";
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-changed=src/analysis/kb_types.rs");
    println!("cargo:rerun-if-changed=build.rs");
    // A knowledge base that does not read fails the build with its error:
    // an empty one would be sound (every command unknown) but would
    // silently stop every hoist.
    let json = std::fs::read_to_string(SOURCE)
        .map_err(|e| format!("{SOURCE}: {e}"))
        .and_then(|yaml| {
            serde_yaml::from_str::<kb_types::KnowledgeBase>(&yaml)
                .map_err(|e| format!("{SOURCE}: {e}"))
        })
        .and_then(|base| serde_json::to_string(&base).map_err(|e| e.to_string()));
    let json = match json {
        Ok(j) => j,
        Err(e) => {
            eprintln!("{e}");
            println!("cargo:warning={e}");
            std::process::exit(1);
        }
    };
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        println!("cargo:warning=OUT_DIR is not set");
        std::process::exit(1);
    };
    if let Err(e) = std::fs::write(out.join("knowledge.json"), json) {
        println!("cargo:warning=cannot write knowledge.json: {e}");
        std::process::exit(1);
    }
}
