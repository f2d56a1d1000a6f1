values {
  region = "us"
}
