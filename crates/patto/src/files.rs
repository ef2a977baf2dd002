//! Files the command line writes and reads that must not be clobbered, followed through a
//! link, or read by others.
//!
//! Every output is created as a new file: a file of the same name is never overwritten,
//! and a symbolic link there is never followed, so that a signature or a bundle cannot
//! land in a file an attacker pointed the link at. Where a command offers `--force`, the
//! new content is written to a fresh file beside the old one and renamed over it, which
//! replaces a link itself rather than what it points to.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// What to do when the output path already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Refuse, and say to choose another path: keys are never replaced.
    Keep,
    /// Refuse, and say that `--force` replaces it.
    RefuseUnlessForced,
    /// Replace it (the command was given `--force`).
    Replace,
}

impl Existing {
    /// The policy of a command that offers `--force`.
    pub fn forced(force: bool) -> Existing {
        if force {
            Existing::Replace
        } else {
            Existing::RefuseUnlessForced
        }
    }
}

/// Writes a secret file readable by its owner only (mode 0600 on Unix).
pub fn write_private(path: &Path, contents: &[u8], existing: Existing) -> anyhow::Result<()> {
    write(path, contents, 0o600, existing)
}

/// Writes a file anyone may read.
pub fn write_public(path: &Path, contents: &[u8], existing: Existing) -> anyhow::Result<()> {
    write(path, contents, 0o644, existing)
}

fn write(path: &Path, contents: &[u8], mode: u32, existing: Existing) -> anyhow::Result<()> {
    match existing {
        Existing::Keep | Existing::RefuseUnlessForced => {
            create_new(path, contents, mode).map_err(|error| {
                if error.kind() == std::io::ErrorKind::AlreadyExists {
                    let advice = if existing == Existing::Keep {
                        "choose another path or move the old file away"
                    } else {
                        "choose another path, or add --force to replace it"
                    };
                    anyhow::anyhow!(
                        "{} already exists and will not be overwritten; {advice}",
                        path.display()
                    )
                } else {
                    anyhow::anyhow!("cannot create {}: {error}", path.display())
                }
            })
        }
        Existing::Replace => {
            let temporary = temporary_beside(path);
            create_new(&temporary, contents, mode)
                .with_context(|| format!("cannot create {}", temporary.display()))?;
            std::fs::rename(&temporary, path).map_err(|error| {
                let _ = std::fs::remove_file(&temporary);
                anyhow::anyhow!("cannot replace {}: {error}", path.display())
            })
        }
    }
}

/// Creates `path` as a new file (`O_CREAT | O_EXCL`, which also refuses any link there)
/// and writes it through to the disk.
fn create_new(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// A fresh name in the same directory as `path`, so that renaming it over `path` is atomic.
fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    path.with_file_name(name)
}

/// Reads a whole file, saying which one could not be read.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a text file.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    String::from_utf8(read(path)?).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// Reads a secret key file, refusing (as ssh does) one that other users can read: such a
/// key must be treated as leaked, and using it quietly would hide that.
pub fn read_secret(path: &Path) -> anyhow::Result<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "the secret key {} can be read by other users (mode {mode:o}): if they may have copied it, revoke it and make a new one; otherwise restrict it with `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
    read_text(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("patto-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn new_files_only_unless_replaced_and_links_never_followed() {
        let dir = scratch();
        let path = dir.join("out");
        write_public(&path, b"one", Existing::RefuseUnlessForced).unwrap();
        let refused = write_public(&path, b"two", Existing::RefuseUnlessForced).unwrap_err();
        assert!(refused.to_string().contains("--force"), "{refused}");
        let kept = write_private(&path, b"two", Existing::Keep).unwrap_err();
        assert!(!kept.to_string().contains("--force"), "{kept}");
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_public(&path, b"two", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        // Nothing is left beside it.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
