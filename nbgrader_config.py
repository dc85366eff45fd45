"""nbgrader settings for the MNIST CNN course."""

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

c.CourseDirectory.course_id = "mnist-cnn"
