//! Minimal protobuf wire-format reader (proto2 as written by gogo-protobuf).
//!
//! Every read is bounds-checked and returns `Err` on malformed input; nothing
//! here panics or allocates.

pub const WIRE_VARINT: u8 = 0;
pub const WIRE_FIXED64: u8 = 1;
pub const WIRE_LEN: u8 = 2;
pub const WIRE_START_GROUP: u8 = 3;
pub const WIRE_END_GROUP: u8 = 4;
pub const WIRE_FIXED32: u8 = 5;

/// A cursor over one message's bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads a base-128 varint (at most 10 bytes, like gogo's generated code).
    pub fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err("proto: integer overflow (varint longer than 10 bytes)".into());
            }
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| "proto: unexpected EOF in varint".to_string())?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    pub fn fixed64(&mut self) -> Result<u64, String> {
        let end = self.pos.checked_add(8).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| "proto: unexpected EOF in fixed64".to_string())?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Ok(u64::from_le_bytes(a))
    }

    fn skip_bytes(&mut self, n: u64) -> Result<(), String> {
        let rem = (self.buf.len() - self.pos) as u64;
        if n > rem {
            return Err("proto: unexpected EOF".into());
        }
        self.pos += n as usize;
        Ok(())
    }

    /// Reads a length-delimited payload.
    pub fn len_delimited(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint()?;
        let rem = (self.buf.len() - self.pos) as u64;
        if n > rem {
            return Err(format!(
                "proto: length {n} exceeds remaining {rem} bytes (unexpected EOF)"
            ));
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.buf[start..self.pos])
    }

    /// Reads a field key, returning (field number, wire type).
    pub fn key(&mut self) -> Result<(u32, u8), String> {
        let k = self.varint()?;
        let wire = (k & 7) as u8;
        let num = k >> 3;
        // gogo: fieldNum := int32(wire >> 3); if fieldNum <= 0 -> illegal tag
        if num == 0 || num > i32::MAX as u64 {
            return Err(format!("proto: illegal tag {num} (wire type {wire})"));
        }
        if wire == WIRE_END_GROUP {
            return Err("proto: wiretype end group for non-group".into());
        }
        if wire > WIRE_FIXED32 {
            return Err(format!("proto: illegal wireType {wire}"));
        }
        Ok((num as u32, wire))
    }

    /// Skips the value of an unknown field whose key was just read.
    /// Groups (deprecated) are skipped with their nesting tracked iteratively.
    pub fn skip(&mut self, wire: u8) -> Result<(), String> {
        let mut depth: usize = 0;
        let mut wire = wire;
        loop {
            match wire {
                WIRE_VARINT => {
                    self.varint()?;
                }
                WIRE_FIXED64 => self.skip_bytes(8)?,
                WIRE_LEN => {
                    self.len_delimited()?;
                }
                WIRE_FIXED32 => self.skip_bytes(4)?,
                WIRE_START_GROUP => depth += 1,
                WIRE_END_GROUP => {
                    if depth == 0 {
                        return Err("proto: unexpected end of group".into());
                    }
                    depth -= 1;
                }
                w => return Err(format!("proto: illegal wireType {w}")),
            }
            if depth == 0 {
                return Ok(());
            }
            // inside a group: read the next key (end-group keys allowed here)
            let k = self.varint()?;
            if k >> 3 == 0 {
                return Err("proto: illegal tag 0 inside group".into());
            }
            wire = (k & 7) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_limits() {
        assert_eq!(Reader::new(&[0x96, 0x01]).varint().unwrap(), 150);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&max).varint().unwrap(), u64::MAX);
        let too_long = [0xff; 11];
        assert!(Reader::new(&too_long).varint().is_err());
        assert!(Reader::new(&[0x80]).varint().is_err());
    }

    #[test]
    fn skip_groups() {
        // group field 1: start(0x0b) varint field 2 (0x10 0x01) end(0x0c), then field 3 varint
        let mut r = Reader::new(&[0x0b, 0x10, 0x01, 0x0c, 0x18, 0x05]);
        let (n, w) = r.key().unwrap();
        assert_eq!((n, w), (1, WIRE_START_GROUP));
        r.skip(w).unwrap();
        assert_eq!(r.key().unwrap(), (3, WIRE_VARINT));
        // unterminated group
        let mut r = Reader::new(&[0x0b, 0x10, 0x01]);
        let (_, w) = r.key().unwrap();
        assert!(r.skip(w).is_err());
        // stray end group
        assert!(Reader::new(&[0x0c]).key().is_err());
    }
}
