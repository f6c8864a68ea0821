use crate::PeerId;

/// Why the SFU refused a call.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("peer {0} is already in the SFU")]
    DuplicatePeer(PeerId),
    #[error("peer {0} is not in the SFU")]
    UnknownPeer(PeerId),
    #[error("the offer is not valid SDP")]
    BadSdp(#[from] str0m::error::SdpError),
    #[error("the offer could not be accepted")]
    Rtc(#[from] str0m::RtcError),
    #[error("a candidate address is not usable")]
    BadCandidate(#[from] str0m::error::IceError),
    #[error("the SFU has no candidate address configured")]
    NoCandidates,
}
