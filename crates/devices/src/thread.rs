//! A thread that reads one device until it is told to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// A device's reading thread and its stop flag. Stopping waits for the
/// thread, so the device is released before another is opened: a real
/// camera refuses a second opener.
#[derive(Debug)]
pub struct DeviceThread {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl DeviceThread {
    /// Runs `body` on a thread named `name`. `body` gets the stop flag and
    /// should return soon after it turns true (check it at least every
    /// 100 ms: [`DeviceThread::stop`] blocks until then).
    pub fn spawn(
        name: &str,
        body: impl FnOnce(Arc<AtomicBool>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || body(flag))?;
        Ok(Self { stop, thread })
    }

    /// Tells the thread to stop and waits for it.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stopping_waits_for_the_thread_to_finish() {
        let finished = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&finished);
        let thread = DeviceThread::spawn("test device", move |stop| {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(20));
            seen.store(true, Ordering::SeqCst);
        })
        .unwrap();
        thread.stop();
        assert!(finished.load(Ordering::SeqCst), "the body ran to its end");
    }
}
