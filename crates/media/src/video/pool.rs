//! Reusable frame buffers, so that the per-frame path allocates nothing
//! once the pool has warmed up.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::frame::{FrameError, VideoFrame};

/// A shared pool of I420 buffers. Cloning is cheap and shares the pool.
///
/// [`FramePool::get`] hands out a [`PooledFrame`] whose buffer goes back to
/// the pool when it is dropped. The pool keeps at most `max_free` idle
/// buffers; beyond that, returned buffers are freed, which bounds memory
/// when a consumer briefly held many frames.
#[derive(Debug, Clone)]
pub struct FramePool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
    max_free: usize,
}

impl FramePool {
    pub fn new(max_free: usize) -> Self {
        Self {
            free: Arc::new(Mutex::new(Vec::with_capacity(max_free))),
            max_free,
        }
    }

    /// A frame of this size. Its pixels are whatever the buffer held last:
    /// every user here overwrites the whole picture.
    pub fn get(
        &self,
        width: u32,
        height: u32,
        timestamp: Duration,
    ) -> Result<PooledFrame, FrameError> {
        let len = VideoFrame::byte_len(width, height);
        let reused = {
            let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
            free.iter()
                .position(|b| b.capacity() >= len)
                .map(|i| free.swap_remove(i))
        };
        let mut data = reused.unwrap_or_else(|| Vec::with_capacity(len));
        // Within capacity, so this never reallocates; it only writes when
        // the buffer last held a smaller picture.
        data.resize(len, 0);
        let frame = VideoFrame::from_i420(width, height, timestamp, data)?;
        Ok(PooledFrame {
            frame: Some(frame),
            pool: self.clone(),
        })
    }

    /// Idle buffers ready for reuse.
    pub fn idle(&self) -> usize {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn put(&self, data: Vec<u8>) {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < self.max_free {
            free.push(data);
        }
    }
}

/// A [`VideoFrame`] on loan from a [`FramePool`].
#[derive(Debug)]
pub struct PooledFrame {
    /// Always `Some` until drop or `detach`.
    frame: Option<VideoFrame>,
    pool: FramePool,
}

impl PooledFrame {
    /// Keeps the frame for good; its buffer will not return to the pool.
    pub fn detach(mut self) -> VideoFrame {
        self.frame.take().expect("present until drop")
    }
}

impl Deref for PooledFrame {
    type Target = VideoFrame;
    fn deref(&self) -> &VideoFrame {
        self.frame.as_ref().expect("present until drop")
    }
}

impl DerefMut for PooledFrame {
    fn deref_mut(&mut self) -> &mut VideoFrame {
        self.frame.as_mut().expect("present until drop")
    }
}

impl Drop for PooledFrame {
    fn drop(&mut self) {
        if let Some(frame) = self.frame.take() {
            self.pool.put(frame.into_data());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_frame_returns_its_buffer_and_is_reused() {
        let pool = FramePool::new(2);
        let first = pool.get(64, 32, Duration::ZERO).unwrap();
        let ptr = first.data().as_ptr();
        drop(first);
        assert_eq!(pool.idle(), 1);
        let again = pool.get(64, 32, Duration::from_millis(33)).unwrap();
        assert_eq!(again.data().as_ptr(), ptr);
        assert_eq!(again.timestamp, Duration::from_millis(33));
        assert_eq!(pool.idle(), 0);
    }

    #[test]
    fn the_pool_keeps_no_more_than_max_free_buffers() {
        let pool = FramePool::new(1);
        let a = pool.get(16, 16, Duration::ZERO).unwrap();
        let b = pool.get(16, 16, Duration::ZERO).unwrap();
        drop(a);
        drop(b);
        assert_eq!(pool.idle(), 1);
        let kept = pool.get(16, 16, Duration::ZERO).unwrap().detach();
        assert_eq!(kept.width(), 16);
        assert_eq!(pool.idle(), 0);
    }
}
