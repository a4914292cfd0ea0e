//! SHA-256 that can stop and resume: a tus upload arrives over many requests (perhaps to different nodes), and
//! the hash must cover every byte without reading the stored file back. The hasher's state is saved with the
//! upload's offset after each request and restored by the next.
//!
//! This uses sha2 0.11, whose hashers can serialise their state (0.10, used elsewhere, cannot).

use sha2_resumable::digest::common::hazmat::{SerializableState, SerializedState};
use sha2_resumable::{Digest, Sha256};

#[derive(Clone, Default)]
pub struct Hasher(Sha256);

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The state after the bytes seen so far, to store beside the upload's offset.
    pub fn save(&self) -> Vec<u8> {
        self.0.serialize().to_vec()
    }

    /// A hasher in the state [`Self::save`] returned; `None` when the bytes are not such a state.
    pub fn restore(state: &[u8]) -> Option<Self> {
        let state = SerializedState::<Sha256>::try_from(state).ok()?;
        Sha256::deserialize(&state).ok().map(Self)
    }

    /// Lower-case hex of the digest.
    pub fn hex(self) -> String {
        hex(&self.0.finalize())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of one piece of bytes (for `Upload-Checksum`, which covers one request's body).
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_and_restored_hash_equals_one_computed_in_one_go() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut first = Hasher::new();
        first.update(&data[..4321]);
        let mut resumed = Hasher::restore(&first.save()).unwrap();
        resumed.update(&data[4321..]);
        assert_eq!(resumed.hex(), hex(&sha256(&data)));
        assert!(Hasher::restore(b"nonsense").is_none());
    }
}
