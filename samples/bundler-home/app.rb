require "rack"
puts Crm::NAME
