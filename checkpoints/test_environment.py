def test_greeting_written(services):
    """playground/greeting.py exists"""
    assert (services / "playground" / "greeting.py").is_file()


def test_greeting_greets(load_service):
    """greet() greets by name"""
    greeting = load_service("playground", "greeting")
    assert greeting.greet("  Ada ") == "Hello, Ada!"
