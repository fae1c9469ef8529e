//! Build script: converts the embedded knowledge base
//! (`src/analysis/knowledge.yaml`, which stays the source and the format the
//! config file extends) to Rust code in `OUT_DIR` that builds the same
//! entries, which the binary includes instead. Every run read the YAML
//! first (about 7 M instructions), then the same data as JSON (1.6 M: every
//! field of every entry parsed and matched by name); the code only
//! allocates the strings, a small part of that.
//!
//! Guarantees: the YAML is read into the binary's own types
//! (`src/analysis/kb_types.rs`) and the code is written from them through
//! their `Serialize`, so it builds the same entries (a test in
//! `src/analysis/kb.rs` checks it; a generic YAML tree would not do:
//! `[true, false]` in a list of command names are strings to the types and
//! booleans to the tree). The code is a struct literal of every field, so a
//! field the writer could not express fails the build. A YAML that does not
//! parse fails the build with the YAML's own error.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::ser::{self, Serialize};

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
    let code = std::fs::read_to_string(SOURCE)
        .map_err(|e| format!("{SOURCE}: {e}"))
        .and_then(|yaml| {
            serde_yaml::from_str::<kb_types::KnowledgeBase>(&yaml)
                .map_err(|e| format!("{SOURCE}: {e}"))
        })
        .and_then(|base| code_of(&base).map_err(|e| e.0));
    let code = match code {
        Ok(c) => c,
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
    if let Err(e) = std::fs::write(out.join("knowledge.rs"), code) {
        println!("cargo:warning=cannot write knowledge.rs: {e}");
        std::process::exit(1);
    }
}

/// A block expression that builds `base`: one function per entry (a single
/// literal of every entry is one huge function, which took the optimiser
/// a minute), then the list of their results.
fn code_of(base: &kb_types::KnowledgeBase) -> Result<String, Error> {
    let mut out = RustCode(String::from("{\n"));
    for (i, e) in base.commands.iter().enumerate() {
        write!(out.0, "fn e{i}() -> Entry {{ ").map_err(|e| Error(e.to_string()))?;
        e.serialize(&mut out)?;
        out.0.push_str("}\n");
    }
    out.0.push_str("KnowledgeBase { commands: vec![");
    for i in 0..base.commands.len() {
        write!(out.0, "e{i}(),").map_err(|e| Error(e.to_string()))?;
    }
    out.0.push_str("] }\n}\n");
    Ok(out.0)
}

/// A serde serializer that writes a Rust expression building the value:
/// structs as struct literals, sequences as `vec![…]`, maps as
/// `BTreeMap::from([…])`, strings as `s("…")` (a function of the including
/// module), unit variants as `Enum::Variant` (the serialised name with its
/// first letter in upper case: the enums of `kb_types` are lower-cased
/// single words). Anything else the types do not use is an error.
struct RustCode(String);

#[derive(Debug)]
struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Error> {
    Err(Error(format!(
        "build.rs cannot write a {what} of the knowledge base as Rust code"
    )))
}

impl RustCode {
    fn put(&mut self, s: &str) -> Result<(), Error> {
        self.0.push_str(s);
        Ok(())
    }
}

impl ser::Serializer for &mut RustCode {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.put(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, _: i8) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_i16(self, _: i16) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_i32(self, _: i32) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_i64(self, _: i64) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_u8(self, _: u8) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_u16(self, _: u16) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_u32(self, _: u32) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_u64(self, _: u64) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        unsupported("number")
    }
    fn serialize_char(self, _: char) -> Result<(), Error> {
        unsupported("char")
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        // `{:?}` of a str is a valid Rust string literal.
        write!(self.0, "s({v:?})").map_err(|e| Error(e.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        unsupported("byte string")
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.put("None")
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        self.put("Some(")?;
        value.serialize(&mut *self)?;
        self.put(")")
    }
    fn serialize_unit(self) -> Result<(), Error> {
        unsupported("unit")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        unsupported("unit struct")
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        let mut chars = variant.chars();
        let Some(first) = chars.next() else {
            return unsupported("nameless variant");
        };
        if !variant.chars().all(|c| c.is_ascii_lowercase()) {
            return unsupported("variant with more than one word");
        }
        write!(
            self.0,
            "{name}::{}{}",
            first.to_ascii_uppercase(),
            chars.as_str()
        )
        .map_err(|e| Error(e.to_string()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        unsupported("newtype struct")
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        unsupported("newtype variant")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Error> {
        self.put("vec![")?;
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        unsupported("tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        unsupported("tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("tuple variant")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Error> {
        self.put("std::collections::BTreeMap::from([")?;
        Ok(self)
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Error> {
        write!(self.0, "{name} {{").map_err(|e| Error(e.to_string()))?;
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("struct variant")
    }
}

impl ser::SerializeSeq for &mut RustCode {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut **self)?;
        self.put(",")
    }
    fn end(self) -> Result<(), Error> {
        self.put("]")
    }
}

impl ser::SerializeMap for &mut RustCode {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.put("(")?;
        key.serialize(&mut **self)?;
        self.put(",")
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut **self)?;
        self.put("),")
    }
    fn end(self) -> Result<(), Error> {
        self.put("])")
    }
}

impl ser::SerializeStruct for &mut RustCode {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        write!(self.0, "{key}:").map_err(|e| Error(e.to_string()))?;
        value.serialize(&mut **self)?;
        self.put(",")
    }
    fn end(self) -> Result<(), Error> {
        self.put("}\n")
    }
}
