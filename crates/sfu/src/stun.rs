//! Just enough STUN to route a binding request to its peer, and telling
//! RTP from the rest of what shares the port.
//!
//! The first datagram from a new remote address is a STUN binding request
//! whose USERNAME is `<our ufrag>:<their ufrag>` (RFC 8445 §7.2.2); the
//! local ufrag is unique per peer, so it names the peer without asking
//! every `Rtc` in turn.

const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
const HEADER_LEN: usize = 20;
const ATTR_USERNAME: u16 = 0x0006;

/// The local ufrag a STUN message is addressed to, or `None` if `bytes` is
/// not STUN or carries no USERNAME.
pub(crate) fn local_ufrag(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < HEADER_LEN || bytes[0] & 0xc0 != 0 || bytes[4..8] != MAGIC_COOKIE {
        return None;
    }
    let body_len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    let end = (HEADER_LEN + body_len).min(bytes.len());
    let mut at = HEADER_LEN;
    while at + 4 <= end {
        let kind = u16::from_be_bytes([bytes[at], bytes[at + 1]]);
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let value = bytes.get(at + 4..at + 4 + len)?;
        if kind == ATTR_USERNAME {
            let username = std::str::from_utf8(value).ok()?;
            return username.split(':').next();
        }
        // Attributes are padded to four bytes.
        at += 4 + len.div_ceil(4) * 4;
    }
    None
}

/// RTP, not RTCP (RFC 5761: RTCP packet types 192–223 sit where RTP's
/// marker bit and payload type are, so payload types 64–95 are never
/// RTP), STUN or DTLS (RFC 7983: first byte); shorter than an RTP header
/// is not RTP.
pub fn is_rtp(datagram: &[u8]) -> bool {
    datagram.len() >= 12
        && (128..192).contains(&datagram[0])
        && !(64..96).contains(&(datagram[1] & 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding_request(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (kind, value) in attrs {
            body.extend_from_slice(&kind.to_be_bytes());
            body.extend_from_slice(&(value.len() as u16).to_be_bytes());
            body.extend_from_slice(value);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        let mut msg = vec![0x00, 0x01];
        msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
        msg.extend_from_slice(&MAGIC_COOKIE);
        msg.extend_from_slice(&[7; 12]);
        msg.extend_from_slice(&body);
        msg
    }

    #[test]
    fn finds_the_local_ufrag_after_other_attributes() {
        let msg = binding_request(&[(0x0024, &[1, 2, 3, 4]), (ATTR_USERNAME, b"srv1:cli")]);
        assert_eq!(local_ufrag(&msg), Some("srv1"));
    }

    #[test]
    fn rtp_and_truncated_messages_are_not_stun() {
        let rtp = [
            0x80, 0x60, 0, 1, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(local_ufrag(&rtp), None);
        let mut msg = binding_request(&[(ATTR_USERNAME, b"abcd:efgh")]);
        msg.truncate(26);
        assert_eq!(local_ufrag(&msg), None);
    }

    #[test]
    fn rtp_is_told_from_rtcp_stun_and_dtls() {
        let header = |first: u8, second: u8| [first, second, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4];
        assert!(is_rtp(&header(0x80, 0x60)), "VP8, no marker");
        assert!(is_rtp(&header(0x90, 0xe0)), "marker set, extension");
        assert!(!is_rtp(&header(0x80, 200)), "sender report");
        assert!(!is_rtp(&header(0x8f, 205)), "transport feedback");
        assert!(!is_rtp(&binding_request(&[])), "STUN");
        assert!(!is_rtp(&[22, 0xfe, 0xfd]), "DTLS handshake");
        assert!(!is_rtp(&[0x80]), "truncated");
    }
}
