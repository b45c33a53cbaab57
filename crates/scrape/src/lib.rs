//! Scraping (in progress).
