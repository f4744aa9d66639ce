//! Small pieces of English for messages people read (the desk's answers, the report).

/// "a", "a and b", "a, b and c"; nothing for an empty list.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(and_list::<&str>(&[]), "");
        assert_eq!(and_list(&["x"]), "x");
        assert_eq!(and_list(&["x", "threads"]), "x and threads");
        assert_eq!(and_list(&["a".to_string(), "b".into(), "c".into()]), "a, b and c");
    }
}
