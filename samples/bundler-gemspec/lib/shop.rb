require "shop/version"
