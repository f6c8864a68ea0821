pub mod audio;
pub mod video;
