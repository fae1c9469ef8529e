require_relative "lib/shop"; puts Shop::VERSION
