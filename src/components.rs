//! Small pieces shared by several pages.

pub mod badges;
pub mod field_error;
pub mod reminders;
pub mod title;
pub mod update_banner;
pub mod welcome;
