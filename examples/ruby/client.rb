#!/usr/bin/env ruby
# frozen_string_literal: true

# A golem-bridge client in Ruby with Bunny (Debian: ruby-bunny), written from docs/asyncapi.yaml alone:
# submit a job, follow its events to the result, ask for its status, cancel one.
#
#   ruby examples/ruby/client.rb run             # submit a job, print its events until it ends, then its status
#   ruby examples/ruby/client.rb cancel-demo     # submit a long job, cancel it once started, print its events
#   ruby examples/ruby/client.rb status JOB_ID   # print a job's snapshot (exit 1 if unknown, 2 if no answer)
#
# Environment: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/%2F), GOLEM_PREFIX (default golem).
require 'bunny'
require 'json'
require 'securerandom'

AMQP_URL = ENV.fetch('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672/%2F')
PREFIX = ENV.fetch('GOLEM_PREFIX', 'golem')

# One connection, a channel with publisher confirms, and a private queue for events and replies.
class GolemClient
  def initialize
    @connection = Bunny.new(AMQP_URL, logger: Logger.new(nil))
    @connection.start
    @channel = @connection.create_channel
    @channel.confirm_select
    @inbox = @channel.queue('', exclusive: true)
    @returned = false
    # The bridge declares its exchanges; a client declares only its own queue. Passive: a missing
    # exchange means no bridge has ever run with this prefix (the broker answers 404 NOT_FOUND).
    @jobs = exchange("#{PREFIX}.jobs")
    @control = exchange("#{PREFIX}.control")
    [@jobs, @control].each { |x| x.on_return { @returned = true } }
  end

  def close
    @connection.close
  end

  # Binds the inbox to the job's events *before* submitting, so that no event is missed.
  def submit(request)
    @inbox.bind("#{PREFIX}.events", routing_key: "job.#{request.fetch('jobId')}.*")
    publish(@jobs, JSON.generate(request), routing_key: 'submit', persistent: true,
                                           content_type: 'application/json')
    raise "the request was not routed: is #{PREFIX}.jobs.submit there?" if @returned
  end

  # Cancels reach only running bridges: published mandatory, a return means that no bridge heard it.
  def cancel(job_id, reason)
    publish(@control, JSON.generate('reason' => reason), routing_key: "job.#{job_id}.cancel")
    raise 'cancel not delivered: no bridge is running' if @returned
  end

  # Yields each event (CloudEvent, AMQP headers) until `ended`; drops repeats by CloudEvent id.
  def events(timeout: 120)
    seen = {}
    deadline = Time.now + timeout
    loop do
      raise "no `ended` within #{timeout} s" if Time.now > deadline

      _info, properties, body = @inbox.pop
      next sleep(0.05) if body.nil?
      next unless properties.content_type == 'application/cloudevents+json'

      event = JSON.parse(body)
      next if seen[event.fetch('id')]

      seen[event['id']] = true
      yield event, properties.headers
      return event['data']['state'] if event['data']['event'] == 'ended'
    end
  end

  # The job's snapshot, or nil when no bridge answered within the timeout. The reply carries our
  # correlation_id (the job ID, had we sent none).
  def status(job_id, timeout: 5)
    correlation_id = SecureRandom.uuid
    publish(@control, '', routing_key: "job.#{job_id}.status", reply_to: @inbox.name, correlation_id: correlation_id)
    deadline = Time.now + timeout
    while Time.now < deadline
      _info, properties, body = @inbox.pop
      next sleep(0.05) if body.nil?
      return JSON.parse(body) if properties.correlation_id == correlation_id
    end
    nil
  end

  private

  def exchange(name)
    @channel.exchange(name, passive: true)
  rescue Bunny::NotFound
    abort "#{name} does not exist: start a bridge with prefix #{PREFIX} first (it declares the topology)"
  end

  def publish(exchange, body, **properties)
    @returned = false
    exchange.publish(body, mandatory: true, **properties)
    raise 'the broker did not confirm the message' unless @channel.wait_for_confirms
  end
end

def describe(event, headers)
  data = event['data']
  line = format('%3s %-9s state=%s attempt=%s', event['sequence'], data['event'], data['state'], data['attempt'])
  line += " [headers #{headers['job-event']}/#{headers['job-state']}]"
  line += " error=#{data['error']['code']}: #{data['error']['message']}" if data['error']
  line += " step=#{data['step']['index']} #{data['step']['kind']}" if data['event'] == 'progress'
  line += " output=#{data['result']['output'].inspect}" if data['event'] == 'success'
  line
end

mode = ARGV.fetch(0, 'run')
client = GolemClient.new
case mode
when 'run'
  job_id = "rb-#{SecureRandom.hex(4)}"
  client.submit('jobId' => job_id, 'work' => [{ 'run' => 'echo hello from ruby; uname -s' }])
  state = client.events { |event, headers| puts describe(event, headers) }
  snapshot = client.status(job_id)
  puts "status #{snapshot['state']} last=#{snapshot['lastEvent']}" if snapshot
  puts "job #{job_id} ended #{state}"
when 'cancel-demo'
  job_id = "rb-#{SecureRandom.hex(4)}"
  client.submit('jobId' => job_id, 'work' => [{ 'run' => 'sleep 300' }])
  state = client.events do |event, headers|
    puts describe(event, headers)
    client.cancel(job_id, 'demo cancel') if event['data']['event'] == 'started'
  end
  puts "job #{job_id} ended #{state}"
when 'status'
  snapshot = client.status(ARGV.fetch(1))
  client.close
  exit 2 if snapshot.nil?
  puts JSON.generate(snapshot)
  exit(snapshot['state'] == 'unknown' ? 1 : 0)
else
  abort File.read(__FILE__).lines.grep(/^#   /).join
end
client.close
