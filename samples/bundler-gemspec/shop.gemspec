# frozen_string_literal: true

require_relative "lib/shop/version"

Gem::Specification.new do |spec|
  spec.name = "shop"
  spec.version = Shop::VERSION
  spec.authors = ["Shop Team"]
  spec.summary = "A small shop"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1"
  spec.files = Dir["lib/**/*.rb"]
  spec.require_paths = ["lib"]

  spec.add_dependency "rack", "~> 3.0"
end
