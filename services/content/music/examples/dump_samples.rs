//! Writes sample items (every content type, several keys and levels) to a
//! directory: `NAME.musicxml` and `NAME.json` (the music_data) for each, plus
//! `NAME.mid`. Used by `scripts/check_musicxml.py`.
//!
//! Usage: `cargo run -p jazz-music --example dump_samples -- OUT_DIR`

use jazz_music::{ContentType, Difficulty, GenerationRequest, generate};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: dump_samples OUT_DIR")?);
    std::fs::create_dir_all(&dir)?;
    let keys = ["C", "Bb", "F#", "Eb", "A", "Db"];
    let minor_keys = ["Cm", "F#m", "Bbm"];
    let mut count = 0;
    for (ti, ct) in ContentType::ALL.iter().enumerate() {
        for (di, d) in Difficulty::ALL.iter().enumerate() {
            let mut req = GenerationRequest::new(*ct, *d);
            req.key = Some(keys[(ti + di) % keys.len()].to_string());
            req.seed = Some(1000 + (ti * 10 + di) as u64);
            if di == 2 {
                req.time_signature = Some("3/4".into());
            }
            write(&dir, &format!("{}_{}", ct.as_str().to_lowercase(), d.as_str().to_lowercase()), &req)?;
            count += 1;
        }
        let mut req = GenerationRequest::new(*ct, Difficulty::Intermediate);
        req.key = Some(minor_keys[ti % minor_keys.len()].to_string());
        req.seed = Some(77 + ti as u64);
        if *ct == ContentType::CompletePiece {
            req.style = Some("bossa nova".into());
        }
        write(&dir, &format!("{}_minor", ct.as_str().to_lowercase()), &req)?;
        count += 1;
    }
    println!("wrote {count} items to {}", dir.display());
    Ok(())
}

fn write(dir: &std::path::Path, name: &str, req: &GenerationRequest) -> Result<(), Box<dyn std::error::Error>> {
    let item = generate(req)?;
    std::fs::write(dir.join(format!("{name}.musicxml")), item.score.to_music_xml())?;
    std::fs::write(dir.join(format!("{name}.json")), serde_json::to_string_pretty(&item.score)?)?;
    std::fs::write(dir.join(format!("{name}.mid")), item.score.to_midi())?;
    Ok(())
}
