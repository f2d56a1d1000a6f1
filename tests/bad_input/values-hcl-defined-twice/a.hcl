values {
  region = "eu"
}
