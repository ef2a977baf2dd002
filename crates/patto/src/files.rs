//! Files the command line writes that must not be clobbered or read by others.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes a new file readable by its owner only (mode 0600 on Unix). Refuses to replace
/// an existing file: a key overwritten by mistake cannot be recovered.
pub fn write_new_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write_new(path, contents, 0o600)
}

/// Writes a new file anyone may read. Refuses to replace an existing file.
pub fn write_new_public(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write_new(path, contents, 0o644)
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists and will not be overwritten; choose another path or move the old file away",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot create {}: {error}", path.display())
        }
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a whole file, saying which one could not be read.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a text file.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    String::from_utf8(read(path)?).with_context(|| format!("{} is not UTF-8 text", path.display()))
}
