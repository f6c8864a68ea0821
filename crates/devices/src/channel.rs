//! A bounded frame queue from a capture thread to its consumer.
//!
//! When the consumer falls behind, the *oldest* frame is dropped and counted:
//! with capacity 1 this is "latest frame wins" for video, and for audio it
//! keeps latency bounded instead of letting a queue grow. The producer never
//! blocks, so it is safe to call from an audio callback.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::DeviceError;

/// Why [`FrameReceiver::recv_timeout`] returned no frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    #[error("no frame within the timeout")]
    Timeout,
    /// Capture was stopped on purpose and every queued frame has been taken.
    #[error("capture stopped")]
    Stopped,
    /// The device failed (e.g. it was unplugged); queued frames were taken first.
    #[error(transparent)]
    Failed(DeviceError),
}

#[derive(Debug)]
struct State<T> {
    queue: VecDeque<T>,
    dropped: u64,
    end: Option<Result<(), DeviceError>>,
}

#[derive(Debug)]
struct Shared<T> {
    capacity: usize,
    state: Mutex<State<T>>,
    ready: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding this lock leaves a consistent queue behind.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The capture side. Dropping it ends the stream as [`RecvError::Stopped`].
#[derive(Debug)]
pub struct FrameSender<T> {
    shared: Arc<Shared<T>>,
}

/// The consumer side.
#[derive(Debug)]
pub struct FrameReceiver<T> {
    shared: Arc<Shared<T>>,
}

/// A queue holding at most `capacity` frames (at least one).
pub fn frame_channel<T>(capacity: usize) -> (FrameSender<T>, FrameReceiver<T>) {
    let shared = Arc::new(Shared {
        capacity: capacity.max(1),
        state: Mutex::new(State {
            queue: VecDeque::with_capacity(capacity.max(1)),
            dropped: 0,
            end: None,
        }),
        ready: Condvar::new(),
    });
    (
        FrameSender {
            shared: Arc::clone(&shared),
        },
        FrameReceiver { shared },
    )
}

impl<T> FrameSender<T> {
    /// Queues a frame, dropping the oldest one if the queue is full.
    pub fn send(&self, frame: T) {
        let mut state = self.shared.lock();
        if state.end.is_some() {
            return;
        }
        if state.queue.len() == self.shared.capacity {
            state.queue.pop_front();
            state.dropped += 1;
        }
        state.queue.push_back(frame);
        drop(state);
        self.shared.ready.notify_one();
    }

    /// Ends the stream with an error the consumer sees after the queued frames.
    pub fn fail(&self, error: DeviceError) {
        self.finish(Err(error));
    }

    /// True once the stream has ended (failed or stopped).
    pub fn is_closed(&self) -> bool {
        self.shared.lock().end.is_some()
    }

    fn finish(&self, end: Result<(), DeviceError>) {
        let mut state = self.shared.lock();
        if state.end.is_none() {
            state.end = Some(end);
        }
        drop(state);
        self.shared.ready.notify_all();
    }
}

impl<T> Drop for FrameSender<T> {
    fn drop(&mut self) {
        self.finish(Ok(()));
    }
}

impl<T> FrameReceiver<T> {
    /// Waits up to `timeout` for the next frame.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvError> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(frame) = state.queue.pop_front() {
                return Ok(frame);
            }
            match &state.end {
                Some(Ok(())) => return Err(RecvError::Stopped),
                Some(Err(e)) => return Err(RecvError::Failed(e.clone())),
                None => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(RecvError::Timeout);
            }
            state = self
                .shared
                .ready
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The next frame if one is queued.
    pub fn try_recv(&self) -> Result<T, RecvError> {
        self.recv_timeout(Duration::ZERO)
    }

    /// Frames dropped because this consumer was too slow.
    pub fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeviceKind;

    #[test]
    fn latest_frame_wins_at_capacity_one() {
        let (tx, rx) = frame_channel(1);
        for i in 0..5 {
            tx.send(i);
        }
        assert_eq!(rx.try_recv(), Ok(4));
        assert_eq!(rx.dropped(), 4);
        assert_eq!(rx.try_recv(), Err(RecvError::Timeout));
    }

    #[test]
    fn queued_frames_come_before_the_failure() {
        let (tx, rx) = frame_channel(4);
        tx.send(1);
        tx.fail(DeviceError::NoneFound(DeviceKind::Camera));
        tx.send(2);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(
            rx.try_recv(),
            Err(RecvError::Failed(DeviceError::NoneFound(
                DeviceKind::Camera
            )))
        );
    }

    #[test]
    fn dropping_the_sender_stops_and_wakes_the_receiver() {
        let (tx, rx) = frame_channel::<u8>(2);
        let waiter = std::thread::spawn(move || rx.recv_timeout(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        drop(tx);
        assert_eq!(waiter.join().unwrap(), Err(RecvError::Stopped));
    }
}
